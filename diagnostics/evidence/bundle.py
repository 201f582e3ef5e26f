"""A deterministic, streaming zip writer with a SHA-256 manifest.

Why each choice:

* **Deterministic** (the same investigation gives byte-identical files apart from the generation time):
  every member has the same fixed timestamp (1980-01-01, the earliest a zip can say), the same permissions and
  "made on Unix" mark whatever the host, and members are written in a fixed order. The generation time is written
  once, in `manifest.json`, so every other member, and the manifest's list of hashes, is identical from one run to
  the next: support can tell a re-generated bundle carries the same evidence.
* **Streaming**: a member is written through `ZipFile.open(name, "w")`, compressed as it goes (ZIP_DEFLATED), and
  hashed on the way in, so a million-row CSV never sits in memory. zipfile can have one member open at a time; a
  second stream written alongside (the JSON Lines next to the CSV) is deflated on its own helper thread into a
  temporary file (`deflated()`), exactly as zipfile would deflate it, and its compressed bytes are copied into the
  zip afterwards (`add_deflated`): both members are compressed at once, and the zip is byte for byte what writing
  them one after the other gives.
* **Verifiable**: `manifest.json` lists every other member with its SHA-256 and size, and `SHA256SUMS` holds the
  same hashes in the format `sha256sum -c` checks, so support can verify the unpacked bundle with one command.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
CHUNK = 1 << 20
#: Members whose size is not known in advance get zip64 headers, so a row file may pass 4 GiB.
STREAMED_ZIP64 = True


@dataclass(frozen=True)
class FileEntry:
    path: str
    sha256: str
    size: int  # bytes, uncompressed


@dataclass(frozen=True)
class BundleFile:
    """The written zip: where it is, its own hash and size, and what it holds."""

    path: Path
    sha256: str
    size: int
    files: tuple[FileEntry, ...]
    generated_at: datetime


class _Drained:
    """Bytes in, handed to `_take` on a helper thread (hashlib and zlib release the GIL on large buffers), so hashing
    and compressing overlap with the caller formatting the next rows. At most `QUEUED` pieces wait, so memory stays
    bounded whatever the size; an error on the thread is raised in the writer's by `write()` / `_finish()`."""

    QUEUED = 8

    def __init__(self, name: str) -> None:
        self.size = 0
        self._sha = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(self.QUEUED)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name=name, daemon=True)
        self._thread.start()

    def _take(self, data: bytes) -> None:
        raise NotImplementedError

    def _drain(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is not None:
                continue  # keep taking pieces so the writer never blocks on a full queue
            try:
                self._sha.update(data)
                self._take(data)
            except BaseException as exc:  # re-raised in the writer's thread by write()/_finish()
                self._error = exc

    def write(self, data: bytes) -> None:
        if self._error is not None:
            raise self._error
        if data:
            self.size += len(data)
            self._queue.put(data)

    def _finish(self) -> None:
        """Wait until every piece is taken."""
        self._queue.put(None)
        self._thread.join()


class Member(_Drained):
    """One zip member open for writing: bytes in, compressed, hashed and counted (about a third of a big bundle's
    time, on the helper thread)."""

    def __init__(self, handle: IO[bytes], path: str) -> None:
        self.path = path
        self._handle = handle
        super().__init__(f"bundle-{path}")

    def _take(self, data: bytes) -> None:
        self._handle.write(data)

    def copy_from(self, source: IO[bytes]) -> None:
        while chunk := source.read(CHUNK):
            self.write(chunk)

    def close(self) -> FileEntry:
        self._finish()
        self._handle.close()
        if self._error is not None:
            raise self._error
        return FileEntry(self.path, self._sha.hexdigest(), self.size)


class Deflated(_Drained):
    """A member's bytes deflated into a temporary file as zipfile deflates them (raw deflate, the member's level),
    with their SHA-256, CRC-32 and size, on a helper thread like `Member`'s: written while another member is open,
    copied into the zip by `BundleWriter.add_deflated`."""

    def __init__(self, spool: IO[bytes], compresslevel: int) -> None:
        self.spool = spool
        self.crc = 0
        self._compressor = zlib.compressobj(compresslevel, zlib.DEFLATED, -15)  # zipfile's `_get_compressor`
        super().__init__("bundle-deflate")

    def _take(self, data: bytes) -> None:
        self.crc = zlib.crc32(data, self.crc)
        self.spool.write(self._compressor.compress(data))

    def close(self) -> str:
        """Wait for the last bytes; the SHA-256 of what was written."""
        self._finish()
        if self._error is not None:
            raise self._error
        self.spool.write(self._compressor.flush())
        return self._sha.hexdigest()


class _AsIs:
    """A compressor that leaves bytes as they are (they are deflated already)."""

    def compress(self, data: bytes) -> bytes:
        return bytes(data)

    def flush(self) -> bytes:
        return b""


def member_info(path: str, compresslevel: int | None = None) -> zipfile.ZipInfo:
    """The same header for every member on every host: fixed time, rw-r--r--, made on Unix, deflated."""
    info = zipfile.ZipInfo(path, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    # zipfile applies the ZipFile's level only to members it names itself; a ZipInfo carries its own
    # (`_compresslevel` up to Python 3.12, `compress_level` from 3.13).
    try:
        info.compress_level = compresslevel  # type: ignore[attr-defined]
    except AttributeError:
        info._compresslevel = compresslevel  # type: ignore[attr-defined]
    return info


class BundleWriter:
    """Writes the zip at `path` (via a temporary file beside it, renamed when complete: a reader never sees half
    a bundle). Use as a context manager; `finish()` adds the checksums and the manifest and closes."""

    def __init__(self, path: str | Path, compresslevel: int = 6) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".vpnbot-bundle-", suffix=".zip.part", dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        self.compresslevel = compresslevel
        self._zip = zipfile.ZipFile(self._tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel)
        self.entries: list[FileEntry] = []
        self._done = False

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        if not self._done:
            self.abort()

    def _check_new(self, path: str) -> None:
        if path in (MANIFEST, SUMS) or any(e.path == path for e in self.entries):
            raise ValueError(f"{path} is already in the bundle (or reserved)")

    @contextmanager
    def member(self, path: str, streamed: bool = True) -> Iterator[Member]:
        """A member written in pieces; its hash and size are recorded when the block ends."""
        self._check_new(path)
        handle = self._zip.open(member_info(path, self.compresslevel), "w", force_zip64=streamed and STREAMED_ZIP64)
        member = Member(handle, path)
        try:
            yield member
        finally:
            entry = member.close()
        self.entries.append(entry)

    def add_bytes(self, path: str, data: bytes) -> FileEntry:
        with self.member(path, streamed=False) as member:
            member.write(data)
        return self.entries[-1]

    def add_text(self, path: str, text: str) -> FileEntry:
        return self.add_bytes(path, text.encode("utf-8"))

    def add_json(self, path: str, doc: Any) -> FileEntry:
        return self.add_text(path, dumps(doc))

    def add_spooled(self, path: str, spool: IO[bytes]) -> FileEntry:
        """Copy a spooled stream (see `spool()`) into the zip, from its start."""
        spool.seek(0)
        with self.member(path) as member:
            member.copy_from(spool)
        return self.entries[-1]

    def deflated(self) -> Deflated:
        """A stream for a member written while another is open; `add_deflated` puts it into the zip."""
        return Deflated(self.spool(), self.compresslevel)

    def add_deflated(self, path: str, deflated: Deflated) -> FileEntry:
        """Put a `deflated()` stream into the zip as member `path`, its compressed bytes copied as they are: the same
        bytes as writing it through `member(path)`. The stream's file is closed."""
        sha256 = deflated.close()
        spool = deflated.spool
        try:
            self._check_new(path)
            spool.seek(0)
            with self._zip.open(member_info(path, self.compresslevel), "w", force_zip64=STREAMED_ZIP64) as handle:
                # zipfile has no public way to add deflated bytes: its writer is told they are deflated already,
                # then given their uncompressed size and CRC. Without those internals (another Python), the bytes
                # are inflated and written normally: slower, the same zip.
                if all(hasattr(handle, name) for name in ("_compressor", "_file_size", "_crc")):
                    handle._compressor = _AsIs()  # type: ignore[attr-defined]
                    while chunk := spool.read(CHUNK):
                        handle.write(chunk)
                    handle._file_size, handle._crc = deflated.size, deflated.crc  # type: ignore[attr-defined]
                else:
                    inflate = zlib.decompressobj(-15)
                    while chunk := spool.read(CHUNK):
                        handle.write(inflate.decompress(chunk))
                    handle.write(inflate.flush())
        finally:
            spool.close()
        self.entries.append(FileEntry(path, sha256, deflated.size))
        return self.entries[-1]

    def spool(self) -> IO[bytes]:
        """A temporary file on the bundle's disk (deleted on close) for a stream written beside an open member."""
        return tempfile.TemporaryFile(prefix=".vpnbot-spool-", dir=self.path.parent)

    def finish(self, manifest: dict[str, Any], generated_at: datetime | None = None) -> BundleFile:
        """Add `SHA256SUMS` and `manifest.json` (with `manifest`'s keys, the file list and the generation time),
        close, and move the zip into place."""
        generated_at = (generated_at or datetime.now(UTC)).astimezone(UTC)
        sums = "".join(f"{e.sha256}  {e.path}\n" for e in sorted(self.entries, key=lambda e: e.path))
        handle = self._zip.open(member_info(SUMS, self.compresslevel), "w")
        member = Member(handle, SUMS)
        member.write(sums.encode("utf-8"))
        self.entries.append(member.close())
        files = sorted(self.entries, key=lambda e: e.path)
        doc = {**manifest,
               "generated_at": generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
               "hash": "sha256",
               "files": [{"path": e.path, "sha256": e.sha256, "size": e.size} for e in files]}
        info = member_info(MANIFEST, self.compresslevel)
        self._zip.writestr(info, dumps(doc).encode("utf-8"))
        self._zip.close()
        os.replace(self._tmp, self.path)
        self._done = True
        digest = hashlib.sha256()
        with open(self.path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
        return BundleFile(self.path, digest.hexdigest(), self.path.stat().st_size, tuple(files), generated_at)

    def abort(self) -> None:
        """Close and delete the partial zip (an error must not leave half a bundle behind)."""
        self._done = True
        with contextlib.suppress(Exception):  # the zip is thrown away; its own error is not the interesting one
            self._zip.close()
        self._tmp.unlink(missing_ok=True)


def dumps(doc: Any) -> str:
    """JSON as every bundle file writes it: sorted keys, two-space indent, UTF-8, a final newline."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def verify(path: str | Path) -> list[str]:
    """Problems found checking a bundle against its manifest ([] when every file matches)."""
    problems = []
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        listed = {f["path"]: f for f in manifest["files"]}
        present = set(zf.namelist()) - {MANIFEST}
        for name in sorted(present - set(listed)):
            problems.append(f"{name}: not in the manifest")
        for name, entry in sorted(listed.items()):
            if name not in present:
                problems.append(f"{name}: listed in the manifest but missing")
                continue
            digest, size = hashlib.sha256(), 0
            with zf.open(name) as fh:
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
            if digest.hexdigest() != entry["sha256"] or size != entry["size"]:
                problems.append(f"{name}: SHA-256 or size differs from the manifest")
    return problems
