"""Reading an export file someone sent: one clear error naming the file, whatever the format inside."""

from __future__ import annotations

from pathlib import Path


class ExportError(ValueError):
    """The file as a whole cannot be read. The message starts with the file name."""


def read_export_text(path: str | Path, error: type[ExportError] = ExportError) -> str:
    """The file's text (a UTF-8 BOM, as Excel writes, is dropped); `error` when it is missing, unreadable or empty."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read it ({exc})") from None
    if not text.strip():
        raise error(f"{path}: the file is empty")
    return text
