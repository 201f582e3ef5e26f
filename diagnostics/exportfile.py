"""Reading an export file someone sent: one clear error naming the file, whatever the format or encoding inside.

Exports reach us through Excel ("Unicode text" is UTF-16 LE with a BOM), Windows PowerShell (`>` redirects write
UTF-16 LE with a BOM; PowerShell 7 writes UTF-8 without one), the Log Analytics portal (UTF-8 with a BOM) and the
CLIs (UTF-8). The text is decoded from its BOM when it has one, as UTF-16 when every other byte of an ASCII-looking
start is NUL (a BOM lost on the way), and as UTF-8 otherwise; line endings (CRLF, CR) are left to the readers, which
split lines with `str.splitlines()` or the csv module.
"""

from __future__ import annotations

import codecs
from pathlib import Path


class ExportError(ValueError):
    """The file as a whole cannot be read. The message starts with the file name."""


#: Byte order marks, longest first (UTF-32's LE mark starts with UTF-16's).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"), (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
#: How much of the start decides that a file without a BOM is UTF-16.
_SNIFF = 512


def decode_export(data: bytes) -> tuple[str, str]:
    """The text of an export's bytes and the name of the encoding it was in.

    >>> decode_export("TimeGenerated,Message\\r\\n".encode("utf-16"))
    ('TimeGenerated,Message\\r\\n', 'UTF-16')

    Raises UnicodeDecodeError when the bytes are none of these.
    """
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(codec), name
    head = data[:_SNIFF - _SNIFF % 2]
    if len(head) >= 4:
        odd_nuls, even_nuls = head[1::2].count(0), head[0::2].count(0)
        if odd_nuls >= len(head) // 2 * 0.9 and not even_nuls:
            return data.decode("utf-16-le"), "UTF-16"
        if even_nuls >= len(head) // 2 * 0.9 and not odd_nuls:
            return data.decode("utf-16-be"), "UTF-16"
    return data.decode("utf-8"), "UTF-8"


def read_export_text(path: str | Path, error: type[ExportError] = ExportError) -> str:
    """The file's text, whatever its encoding (see above); `error` when it is missing, unreadable or empty."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not an export file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        text, _ = decode_export(data)
    except UnicodeDecodeError as exc:
        raise error(f"{path}: byte {exc.start + 1} is not text in UTF-8 or UTF-16; export it again as UTF-8 "
                    "(CSV UTF-8 in Excel, `Out-File -Encoding utf8` in PowerShell)") from None
    if "\x00" in text:
        raise error(f"{path}: holds NUL characters: it is binary, or text in an encoding other than UTF-8 or "
                    "UTF-16; export it again as UTF-8") from None
    if not text.strip():
        raise error(f"{path}: the file is empty")
    return text
