"""The zip Network Watcher's VPN troubleshoot leaves in its storage account, opened for the log file inside.

The troubleshoot operation zips its output (IKElogs.txt on newer gateways; IKEErrors.txt and Scrubbed-wfpdiag.txt on
older ones; ConnectionStats.txt, CPUStats.txt: docs/sources.md#network-watcher-files), and people hand over the zip
as they downloaded it. The file that tells how the negotiation went is taken from it, the most complete first; a zip
without one is refused saying what it holds. Members are read only up to `MAX_MEMBER_BYTES` uncompressed (a zip
says its sizes, and a small zip can expand to gigabytes), and nothing is extracted to disk.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from diagnostics.exportfile import ExportError, decode_export

#: The start of every zip archive (a local file header).
ZIP_MAGIC = b"PK\x03\x04"
#: The most of one member read: Network Watcher's logs are kilobytes to a few megabytes.
MAX_MEMBER_BYTES = 64 * 1024 * 1024
#: The members that tell how the negotiation went, the most complete first (lower-cased names).
IKE_FILES = ("ikelogs.txt", "ikeerrors.txt", "scrubbed-wfpdiag.txt")


@dataclass(frozen=True)
class Member:
    """The log file taken from a troubleshoot zip, and what else the zip holds."""

    name: str  # its path inside the zip
    text: str
    others: list[str] = field(default_factory=list)  # the zip's other files


def is_zip(path: str | Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(ZIP_MAGIC)) == ZIP_MAGIC
    except OSError:
        return False  # the readers say why it cannot be read


def troubleshoot_member(path: str | Path, name: str) -> Member:
    """The IKE log of the zip at `path` (called `name` in errors); ExportError (one line) when there is none."""
    try:
        with zipfile.ZipFile(path) as archive:
            files = [i for i in archive.infolist() if not i.is_dir()]
            by_name = {PurePosixPath(i.filename).name.lower(): i for i in files}
            chosen = next((by_name[n] for n in IKE_FILES if n in by_name), None)
            if chosen is None:
                listed = ", ".join(PurePosixPath(i.filename).name for i in files[:8]) or "nothing"
                raise ExportError(f"{name}: a zip archive without Network Watcher's IKElogs.txt, IKEErrors.txt or "
                                  f"Scrubbed-wfpdiag.txt (it holds {listed}); unzip it and give the log file inside")
            data = b""
            if chosen.file_size <= MAX_MEMBER_BYTES:  # what the zip says; what it holds is capped as it is read
                with archive.open(chosen) as fh:
                    data = fh.read(MAX_MEMBER_BYTES + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError) as exc:
        raise ExportError(f"{name}: a damaged or unsupported zip archive ({exc}); unzip it and give the log file "
                          "inside") from None
    if chosen.file_size > MAX_MEMBER_BYTES or len(data) > MAX_MEMBER_BYTES:
        raise ExportError(f"{name}: its {chosen.filename} is larger than the {_size(MAX_MEMBER_BYTES)} read from a "
                          "zip; unzip it and give the part of it around the failure")
    try:
        text, _ = decode_export(data)
    except UnicodeDecodeError:
        raise ExportError(f"{name}: its {chosen.filename} is not text; unzip it and give the log file inside") \
            from None
    others = [PurePosixPath(i.filename).name for i in files if i is not chosen]
    return Member(chosen.filename, text, others)


def _size(size: int) -> str:
    return f"{size // 1_048_576} MB" if size >= 1_048_576 else f"{size // 1024} KB"
