"""Loaded local workspaces kept on disk, keyed by what they were built from, so the second question about the same
export does not load it again.

Generic on purpose: an entry is one DuckDB file built by a function the caller gives, under a key the caller makes
from everything the file depends on (an export: its content hash, the reader version and the options that change
what it loads into; the demo could use its generator version and day). `bot.cache` decides where the directory is
(docs/exports.md#cache). Entries are written to a temporary name and renamed into place, so a reader never sees half
a file and two processes building the same key at once both end up with a whole one; the least recently used
entries are removed once the directory grows over its size cap.

A process killed while writing leaves a `.partial` file, never read (and removed once old), never half an entry;
an entry damaged since (truncated, overwritten) is `discard`ed by the caller that cannot read it, and built again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Entries are removed, least recently used first, once the directory holds more than this.
DEFAULT_MAX_BYTES = 4 << 30
SUFFIX = ".duckdb"
_HASH_MEMO = "content-hashes.json"
_MEMO_ENTRIES = 256
#: A `.partial` file older than this is left over by a process that was killed while writing it.
_STALE_PARTIAL_S = 3600


@dataclass
class CachedFile:
    path: Path
    built: bool  # built now, rather than found
    keep: Any = None  # what must stay referenced while the file is used (a temporary directory)


class WorkspaceCache:
    """DuckDB workspace files in `root` (None: nothing is kept, every file is built into a temporary directory)."""

    def __init__(self, root: str | Path | None, max_bytes: int = DEFAULT_MAX_BYTES):
        self.root = Path(root) if root else None
        self.max_bytes = max_bytes

    def get_or_build(self, key: str, build: Callable[[Path], Any]) -> CachedFile:
        """The file for `key`, built by `build(path)` (which creates the DuckDB file at `path`) if not cached."""
        if self.root is None:
            return self._scratch(key, build)
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.entry(key)
        if final.exists():
            with contextlib.suppress(OSError):
                os.utime(final)  # recently used: evicted last
            return CachedFile(final, built=False)
        self._write(final, build)
        self.evict(keep=final)
        return CachedFile(final, built=True)

    def entry(self, key: str) -> Path:
        """Where the entry for `key` is (or would be) kept."""
        if self.root is None:
            raise ValueError("this cache keeps nothing")
        return self.root / f"{_safe(key)}{SUFFIX}"

    def discard(self, path: Path) -> None:
        """Remove an entry that cannot be read (truncated or damaged since it was written): loaded again."""
        if self.root is not None and path.parent == self.root:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _scratch(self, key: str, build: Callable[[Path], Any]) -> CachedFile:
        scratch = tempfile.TemporaryDirectory(prefix="vpnbot-workspace-")
        path = Path(scratch.name) / f"{_safe(key)}{SUFFIX}"
        build(path)
        return CachedFile(path, built=True, keep=scratch)

    def _write(self, final: Path, build: Callable[[Path], Any]) -> None:
        """`build` writes a partial file, renamed into place only once whole."""
        fd, partial = tempfile.mkstemp(prefix=final.name + ".", suffix=".partial", dir=final.parent)
        os.close(fd)
        os.unlink(partial)  # DuckDB creates the file itself
        try:
            build(Path(partial))
            os.replace(partial, final)
        finally:
            for leftover in (partial, partial + ".wal"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(leftover)

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Remove the least recently used entries until the directory is within its cap; returns what went."""
        if self.root is None:
            return []
        entries = []
        for path in self.root.glob("*.partial*"):  # a writer killed midway (and its .wal); one writing now is younger
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < time.time() - _STALE_PARTIAL_S:
                    path.unlink()
        for path in self.root.glob(f"*{SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                stat = path.stat()
                entries.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        removed = []
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
            total -= size
        return removed

    def clear(self) -> int:
        """Remove every entry; returns how many."""
        if self.root is None or not self.root.exists():
            return 0
        count = 0
        for path in self.root.glob(f"*{SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                count += 1
        return count

    def translations(self) -> TranslationStore | None:
        """Where KQL-to-SQL translations are kept next to the workspaces (None when nothing is kept)."""
        return TranslationStore(self.root / "kql-sql") if self.root else None

    def content_hash(self, path: str | Path) -> str:
        """SHA-256 of a file's bytes (the CPU's SHA instructions make it cheaper here than BLAKE2b, SHA-1 or MD5:
        benchmarks/README.md#bench_exportspy). Remembered by (path, size, modification time, inode), so a file asked
        about again is not read twice; a file changed in place has another modification time and is hashed again."""
        path = Path(path)
        stat = path.stat()
        stamp = [str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino]
        memo = self._memo()
        known = memo.get(stamp[0])
        if known and known[:3] == stamp[1:]:
            return str(known[3])
        with path.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256")
        memo[stamp[0]] = [*stamp[1:], digest.hexdigest()]
        self._save_memo(memo)
        return digest.hexdigest()

    def _memo(self) -> dict[str, list[Any]]:
        if self.root is None:
            return {}
        try:
            return json.loads((self.root / _HASH_MEMO).read_text())
        except (OSError, ValueError):
            return {}

    def _save_memo(self, memo: dict[str, list[Any]]) -> None:
        if self.root is None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        kept = dict(list(memo.items())[-_MEMO_ENTRIES:])
        fd, partial = tempfile.mkstemp(prefix=_HASH_MEMO + ".", dir=self.root)
        with os.fdopen(fd, "w") as fh:
            json.dump(kept, fh)
        os.replace(partial, self.root / _HASH_MEMO)


class TranslationStore:
    """SQL translations of KQL query shapes, one small file each: parsing KQL costs a process ~0.3–1 s per shape,
    more than answering from a loaded workspace, and each CLI call is a new process."""

    def __init__(self, root: Path):
        self.root = root

    def get(self, key: str) -> str | None:
        try:
            return (self.root / f"{_safe(key)}.sql").read_text(encoding="utf-8")
        except OSError:
            return None

    def put(self, key: str, sql: str) -> None:
        with contextlib.suppress(OSError):
            self.root.mkdir(parents=True, exist_ok=True)
            fd, partial = tempfile.mkstemp(prefix=f"{_safe(key)}.", dir=self.root)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(sql)
            os.replace(partial, self.root / f"{_safe(key)}.sql")


def _safe(key: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in key)
