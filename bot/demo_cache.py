"""The demo week on disk, so a `vpnbot ask` on the demo does not generate and load it again (docs/architecture.md#
startup).

Generating the week (~10,000 Azure rows, ~3,000 AWS events) and loading it into DuckDB costs a fresh process
~0.5-1 s, more than answering. The week is written once into a DuckDB file of the cache (`bot.cache.demo_cache`,
the same root as the exports': `VPNBOT_CACHE_DIR`, `off` keeps nothing) that later processes attach read-only.

Its key is the generator version (`diagnostics.demo.GENERATOR_VERSION`, and a hash of the generators' source), the
day, and the instant of that day the week ends at: the `--now` given, or, on the wall clock, `now` rounded down to
`SLOT` — the demo's scenarios sit at clock times of the day and around "now" (a flapping tunnel in the last hours),
so a week built for another day, another generator or more than `SLOT` ago is stale and built again. A cached file
that cannot be read (truncated, written by another DuckDB) is built again, and a cache directory that cannot be
written gets a week for this process only: never a traceback.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from datetime import UTC, datetime, timedelta
from importlib import util
from pathlib import Path
from typing import Any

import duckdb

from bot.cache import demo_cache
from diagnostics.aws.parser.rows import LogRecord
from diagnostics.aws.sources import MemoryLogSource
from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.azure.workspace_cache import WorkspaceCache
from diagnostics.demo import GENERATOR_VERSION
from diagnostics.duck import connect as duck_connect
from diagnostics.model import SourceError
from diagnostics.sources import Sources
from diagnostics.traffic.model import MetricsSource

#: On the wall clock, a week built this recently is reused: the demo's logs then end up to this much earlier than
#: `now` (as if Log Analytics lagged a little more).
SLOT = timedelta(minutes=10)
GENERATORS = ("diagnostics.demo", "diagnostics.azure.demo", "diagnostics.aws.demo")
META = "demo_meta"


def demo_sources(now: datetime, pinned: bool = True) -> Sources:
    """The demo's log sources for the week ending at `now` (`pinned` False: the wall clock, rounded to `SLOT`)."""
    # lazy load: the AWS demo's log group name, the only thing read from the generator module itself
    from diagnostics.aws.demo import LOG_GROUP

    key, at = demo_key(now, pinned)
    cache = demo_cache()
    build = functools.partial(build_week, at=at)
    for attempt in range(2):
        try:
            entry = cache.get_or_build(key, build)
        except (OSError, duckdb.Error):  # the cache directory cannot be written: a week for this process only
            cache = WorkspaceCache(None)
            entry = cache.get_or_build(key, build)
        try:
            workspace = LocalWorkspace(label="demo workspace", origin="demo")
            workspace.attach(str(entry.path), keep=entry.keep, verify=(META,))
            break
        except (duckdb.Error, ValueError, KeyError, TypeError):
            if entry.built or attempt:
                raise
            with contextlib.suppress(OSError):  # unreadable: built again (another process may have done so)
                entry.path.unlink()
    workspace.translations = cache.translations()
    aws = CachedEvents(entry.path, entry.keep, label="demo AWS tunnel logs", origin="demo", log_group=LOG_GROUP,
                       table=LOG_GROUP)
    return Sources(kql=[workspace], aws=[aws], metrics=demo_metrics(at, entry.path))


def demo_metrics(at: datetime, path: Path | None = None) -> list[MetricsSource]:
    """The demo's metrics for the week ending at `at`, made in process when a question reads them: each value is a
    function of its 5-minute bucket and of the week's outages, which the cached week at `path` keeps (read when a
    question first needs them; generated again when the file has none)."""
    # lazy loads: the demo's metrics only on the demo
    from diagnostics.aws.demo_metrics import DemoCloudWatchMetrics
    from diagnostics.azure.demo_metrics import DemoAzureMetrics

    kept = functools.lru_cache(maxsize=1)(lambda: read_outages(path, at))
    return [DemoAzureMetrics(at, lambda: kept()[0]), DemoCloudWatchMetrics(at, lambda: kept()[1])]


def outages_json(at: datetime) -> str:
    """The week's outages as the demo's metrics need them (Azure tunnels, Azure BGP sessions, AWS tunnels)."""
    # lazy loads: the generators run only when the week is built
    from diagnostics.aws.demo import outages as aws_outages
    from diagnostics.azure.demo_metrics import week_outages

    tunnels, bgp = week_outages(at)
    return json.dumps({"azure": [[n, d.isoformat(), u.isoformat()] for n, d, u in tunnels],
                       "azure_bgp": [[n, d.isoformat(), u.isoformat()] for n, d, u in bgp],
                       "aws": [[n, ip, d.isoformat(), u.isoformat()] for n, ip, d, u in aws_outages(at)]})


def read_outages(path: Path | None, at: datetime) -> tuple[Any, Any]:
    """((Azure tunnel outages, Azure BGP outages), AWS tunnel outages) kept in the week's file, else generated."""
    try:
        if path is None:
            raise ValueError("no cached week")
        kept = json.loads(kept_value(path, "metrics_outages"))
    except (duckdb.Error, ValueError, KeyError, TypeError, OSError):
        kept = json.loads(outages_json(at))
    when = datetime.fromisoformat
    return ((tuple((n, when(d), when(u)) for n, d, u in kept["azure"]),
             tuple((n, when(d), when(u)) for n, d, u in kept["azure_bgp"])),
            tuple((n, ip, when(d), when(u)) for n, ip, d, u in kept["aws"]))


class CachedEvents(MemoryLogSource):
    """The AWS demo's events, read from the week's file when a question first needs them: a question about an
    Azure tunnel does not pay for them."""

    def __init__(self, path: Path, keep: object, **options: str) -> None:
        super().__init__((), **options)
        del self._records, self._times  # read on first use (the cached properties below)
        self._path, self._keep = path, keep

    @functools.cached_property
    def _records(self) -> list[LogRecord]:  # type: ignore[override]
        try:
            return sorted(read_records(self._path), key=lambda r: r.timestamp)
        except (duckdb.Error, ValueError, KeyError, TypeError) as exc:
            raise SourceError(f"{self.label}: the cached demo week {self._path} cannot be read ({exc}); remove it "
                              "and ask again") from None

    @functools.cached_property
    def _times(self) -> list[int]:  # type: ignore[override]
        return [r.timestamp for r in self._records]


def demo_key(now: datetime, pinned: bool = True) -> tuple[str, datetime]:
    """The cache key of the week ending at `now`, and the instant it is built for."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    at = now.astimezone(UTC)
    if not pinned:
        at = at.replace(minute=at.minute - at.minute % int(SLOT.total_seconds() // 60), second=0, microsecond=0)
    return f"demo-g{GENERATOR_VERSION}-{generator_hash()}-{at:%Y%m%d}-{at:%H%M%S%f}", at


@functools.lru_cache(maxsize=1)
def generator_hash() -> str:
    """A hash of the generators' source: a change that forgot to raise GENERATOR_VERSION still rebuilds."""
    digest = hashlib.sha256()
    for name in GENERATORS:
        spec = util.find_spec(name)
        if spec is not None and spec.origin:
            with contextlib.suppress(OSError):
                digest.update(Path(spec.origin).read_bytes())
    return digest.hexdigest()[:12]


def build_week(path: Path, at: datetime) -> None:
    """Write the demo week ending at `at` into a new DuckDB file at `path`: the Azure rows as an export's loaded
    file holds them (`LocalWorkspace.attach` reads it), the AWS events as JSON in `demo_meta`."""
    # lazy loads: the generators run only when the week is built
    from diagnostics.aws.demo import generate_records
    from diagnostics.azure.demo import generate_rows

    workspace = LocalWorkspace(label="demo workspace", origin="demo")
    workspace.load_rows(generate_rows(at))
    workspace.save(str(path))
    events = [[r.stream, r.timestamp, r.message] for r in generate_records(at)]
    con = duck_connect(str(path))
    try:
        con.execute(f"CREATE TABLE {META} (name VARCHAR, value VARCHAR)")
        con.executemany(f"INSERT INTO {META} VALUES (?, ?)", [
            ("generator_version", str(GENERATOR_VERSION)), ("built_for", at.isoformat()),
            ("aws_records", json.dumps(events, separators=(",", ":"))), ("metrics_outages", outages_json(at))])
    finally:
        con.close()


def read_records(path: Path) -> list[LogRecord]:
    """The AWS demo events kept in the week's file."""
    return [LogRecord(stream, int(timestamp), message)
            for stream, timestamp, message in json.loads(kept_value(path, "aws_records"))]


def kept_value(path: Path, name: str) -> str:
    """One value kept beside the week's tables; ValueError when the file has none by that name."""
    con = duck_connect(str(path), read_only=True)
    try:
        row = con.execute(f"SELECT value FROM {META} WHERE name = ?", [name]).fetchone()
    finally:
        con.close()
    if row is None:
        raise ValueError(f"{path}: no {name} kept in it")
    return str(row[0])
