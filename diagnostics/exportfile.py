"""Reading an export file someone sent: one clear error naming the file, whatever the format or encoding inside.

Exports reach us through Excel ("Unicode text" is UTF-16 LE with a BOM), Windows PowerShell (`>` redirects write
UTF-16 LE with a BOM; PowerShell 7 writes UTF-8 without one), the Log Analytics portal (UTF-8 with a BOM) and the
CLIs (UTF-8). The text is decoded from its BOM when it has one, as UTF-16 when every other byte of an ASCII-looking
start is NUL (a BOM lost on the way), and as UTF-8 otherwise; line endings (CRLF, CR) are left to the readers, which
split lines with `str.splitlines()` or the csv module.
"""

from __future__ import annotations

import codecs
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
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
    codec, skip, name = sniff_encoding(data)
    return data[skip:].decode(codec), name


def sniff_encoding(head: bytes) -> tuple[str, int, str]:
    """(Python codec, length of the byte-order mark, display name) from the first bytes of an export."""
    for bom, codec, name in _BOMS:
        if head.startswith(bom):
            return codec, len(bom), name
    head = head[:_SNIFF - _SNIFF % 2]
    if len(head) >= 4:
        odd_nuls, even_nuls = head[1::2].count(0), head[0::2].count(0)
        if odd_nuls >= len(head) // 2 * 0.9 and not even_nuls:
            return "utf-16-le", 0, "UTF-16"
        if even_nuls >= len(head) // 2 * 0.9 and not odd_nuls:
            return "utf-16-be", 0, "UTF-16"
    return "utf-8", 0, "UTF-8"


@contextlib.contextmanager
def readable(path: str | Path, error: type[ExportError] = ExportError) -> Iterator[None]:
    """Reading `path` in the block: a file that is missing, a directory or unreadable is its one-line error."""
    try:
        yield
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not an export file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read it ({exc.strerror or exc})") from None


def read_export_text(path: str | Path, error: type[ExportError] = ExportError) -> str:
    """The file's text, whatever its encoding (see above); `error` when it is missing, unreadable or empty."""
    return read_export_head(path, None, error).text


@dataclass(frozen=True)
class ExportHead:
    """The start of an export (or all of it), decoded, and how to decode the rest."""

    text: str
    codec: str  # Python codec of the bytes after the byte-order mark
    bom: int  # length of the byte-order mark
    encoding: str  # "UTF-8", "UTF-16", … as said to people
    complete: bool  # `text` is the whole file


def read_export_head(path: str | Path, size: int | None = 1 << 20,
                     error: type[ExportError] = ExportError) -> ExportHead:
    """The first `size` bytes of an export decoded (the whole file when `size` is None), with the same one-line
    errors as `read_export_text`: a million-row export is sniffed from its head, never decoded whole."""
    path = Path(path)
    with readable(path, error), path.open("rb") as fh:
        data = fh.read() if size is None else fh.read(size)
        complete = size is None or len(data) < size or not fh.read(1)
    if data.startswith(b"PK\x03\x04"):  # Network Watcher's VPN troubleshoot output is downloaded as a zip
        raise error(f"{path}: a zip archive, not a log export; unzip it and give the export inside (a Network Watcher "
                    f"VPN troubleshoot zip: `vpnbot explain {path.name}` explains its IKElogs.txt)")
    codec, bom, name = sniff_encoding(data)
    try:
        text = codecs.getincrementaldecoder(codec)().decode(data[bom:], final=complete)
    except UnicodeDecodeError as exc:
        raise error(f"{path}: byte {bom + exc.start + 1} is not text in UTF-8 or UTF-16; export it again as UTF-8 "
                    "(CSV UTF-8 in Excel, `Out-File -Encoding utf8` in PowerShell)") from None
    if "\x00" in text:
        raise error(f"{path}: holds NUL characters: it is binary, or text in an encoding other than UTF-8 or "
                    "UTF-16; export it again as UTF-8") from None
    if not text.strip():
        raise error(f"{path}: the file is empty")
    return ExportHead(text, codec, bom, name, complete)


def copy_as_utf8(path: str | Path, head: ExportHead, target: str | Path, chunk: int = 1 << 22) -> None:
    """Write the export as UTF-8 without a byte-order mark (for readers that take only UTF-8), in chunks: line
    breaks, and so line numbers, are kept."""
    decoder = codecs.getincrementaldecoder(head.codec)()
    with open(path, "rb") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        src.seek(head.bom)
        while block := src.read(chunk):
            dst.write(decoder.decode(block))
        dst.write(decoder.decode(b"", final=True))
