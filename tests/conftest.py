"""Every test runs offline: a connection to anything but loopback fails the test at once, so a code path that
tried Entra ID, the instance-metadata address 169.254.169.254 or a real cloud API cannot pass by accident.

The shared fixtures live here, one definition each (the machinery behind them is in tests/support/):

- `demo` (session): the built-in demo workspace at `support.demo.DEMO_NOW`; `demo_at(now)` (session) builds it at
  another instant, once per instant. Both are read-only: nothing in a workspace changes after it is built.
- `moto_server` (session): moto's AWS server on 127.0.0.1; `aws` (function): that server reset (no resources, no
  queued faults, no recorded calls) with the standard AWS environment pointing at it and nothing else.
- `fast_retries` (function): botocore's retries and adaptive rate limiter without real waiting; what they would have
  waited is recorded (`support.aws_retries.NoWaitRetries`).
- `log_analytics(workspaces, ...)` (function): local Log Analytics endpoints, stopped after the test;
  `azure_source(server, workspace_id, ...)` (function): the production `AzureLogAnalyticsSource` on one, closed after
  the test; `azure_sleeps` (function): azure-core's waits between retries, recorded instead of slept.
- `slack_api(users, ...)` (function): a local fake Slack Web API (`support.fake_slack_api.FakeSlackAPI`) knowing
  those users' time zones, started, and stopped after the test.
- `here` (function): a fresh working directory with no configuration; `state` (function): an empty state store.
- `state_url` / `store` (function, parametrised sqlite and postgresql): a fresh store location / an open empty store
  on each engine; `pg_server` (session): the PostgreSQL server behind them (tests/support/postgres.py).
"""

from __future__ import annotations

import inspect
import os
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from support.aws_retries import NoWaitRetries
from support.azure_client import TransportSleeps, source_for
from support.credentials import StaticTokenCredential
from support.demo import DEMO_NOW
from support.fake_slack_api import FakeSlackAPI
from support.loganalytics_server import LogAnalyticsServer
from support.moto_server import MotoServer
from support.postgres import Cluster, Server, find_bindir, server_from_environment
from support.serve import Serve

from diagnostics.azure.loganalytics import AzureLogAnalyticsSource

if TYPE_CHECKING:  # bot/ is imported by the fixtures that use it, so a change there cannot break every test's setup
    from bot.state import StateStore
    from bot.workspace import Workspace

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
#: Variables that would point boto3 somewhere else than the test server, or at credentials of this machine.
AWS_LEFTOVERS = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_LOGS")


def _guarded(original):
    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0] if isinstance(address, tuple) else address
            if host not in LOOPBACK:
                raise AssertionError(f"test tried to reach {host!r}: only 127.0.0.1 is allowed")
        return original(self, address)

    return connect


@pytest.fixture(autouse=True, scope="session")
def export_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Loaded exports are cached in a directory of the test session (also for `vpnbot` child processes), never in
    the user's ~/.cache (bot/cache.py)."""
    path = tmp_path_factory.mktemp("vpnbot-cache")
    before = os.environ.get("VPNBOT_CACHE_DIR")
    os.environ["VPNBOT_CACHE_DIR"] = str(path)
    yield path
    if before is None:
        os.environ.pop("VPNBOT_CACHE_DIR", None)
    else:
        os.environ["VPNBOT_CACHE_DIR"] = before


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded(socket.socket.connect))
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded(socket.socket.connect_ex))


# ------------------------------------------------------------------------------------------------- the demo


@pytest.fixture(scope="session")
def demo_at() -> Callable[[datetime], Workspace]:
    """`demo_at(now)`: the demo workspace whose week ends at `now`, built once per instant for the whole session."""
    from bot.workspace import demo_workspace  # lazy: only the tests that use the demo import bot/ for it

    built: dict[datetime, Workspace] = {}

    def at(now: datetime) -> Workspace:
        if now not in built:
            built[now] = demo_workspace(now)
        return built[now]

    return at


@pytest.fixture(scope="session")
def demo(demo_at: Callable[[datetime], Workspace]) -> Workspace:
    """The demo workspace at `support.demo.DEMO_NOW`."""
    return demo_at(DEMO_NOW)


# ------------------------------------------------------------------------------------------------- AWS (moto)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture
def aws(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    """A clean moto, and the standard AWS environment pointing at it (so the code under test uses boto3's default
    chain, as in production). Reset again afterwards: moto's backends are process-wide, so a test that starts a
    `MotoServer` of its own would otherwise see this test's resources."""
    moto_server.reset()
    for name in AWS_LEFTOVERS:
        monkeypatch.delenv(name, raising=False)
    for name, value in moto_server.environment().items():
        monkeypatch.setenv(name, value)
    yield moto_server
    moto_server.reset()


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> NoWaitRetries:
    """botocore's retry decisions and adaptive rate limiter, without the waiting (recorded instead)."""
    return NoWaitRetries().install(monkeypatch)


# ------------------------------------------------------------------------------------------------- Azure


@pytest.fixture
def azure_sleeps(monkeypatch: pytest.MonkeyPatch) -> TransportSleeps:
    """azure-core's waits between retries (Retry-After or backoff), recorded, not slept."""
    return TransportSleeps().install(monkeypatch)


@pytest.fixture
def log_analytics() -> Iterator[Callable[..., LogAnalyticsServer]]:
    """`log_analytics({workspace_id: rows}, token=..., now=...)`: a started local Log Analytics endpoint (HTTPS,
    its own certificate), stopped when the test ends."""
    started: list[LogAnalyticsServer] = []

    def start(workspaces: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
              **options: Any) -> LogAnalyticsServer:
        started.append(LogAnalyticsServer(workspaces, **options).start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def azure_source(azure_sleeps: TransportSleeps) -> Iterator[Callable[..., AzureLogAnalyticsSource]]:
    """`azure_source(server, workspace_id, **options)`: the production source on `server`, trusting its certificate,
    with a credential holding the server's token unless `credential=` says otherwise; closed when the test ends.
    Its retries do not wait: `azure_sleeps` records what they would have waited, watching the last server given."""
    made: list[AzureLogAnalyticsSource] = []

    def make(server: LogAnalyticsServer, workspace_id: str, **options: Any) -> AzureLogAnalyticsSource:
        azure_sleeps.watch(server)
        options.setdefault("credential", StaticTokenCredential(server.token))
        made.append(source_for(server, workspace_id, **options))
        return made[-1]

    yield make
    for source in made:
        source.close()


# ------------------------------------------------------------------------------------------------- Slack


@pytest.fixture
def slack_api() -> Iterator[Callable[..., FakeSlackAPI]]:
    """`slack_api({user_id: zone or None}, not_in=(channel, ...), token=...)`: a started fake Slack Web API whose
    users.info gives those zones, stopped when the test ends (its held calls released first)."""
    started: list[FakeSlackAPI] = []

    def start(users: Mapping[str, str | None] | None = None, **options: Any) -> FakeSlackAPI:
        started.append(FakeSlackAPI(users, **options).start())
        return started[-1]

    yield start
    for api in started:
        api.stop()


@pytest.fixture
def serve(api: FakeSlackAPI, tmp_path: Path) -> Iterator[Callable[..., Serve]]:
    """`serve(*args, env=...)`: `vpnbot serve` in a child process talking to the test's `api`, in `tmp_path`
    (its state file too); killed when the test ends."""
    started: list[Serve] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Serve:
        started.append(Serve(api, tmp_path, *args, env=env))
        return started[-1]

    yield start
    for process in started:
        process.kill()


# ------------------------------------------------------------------------------------------------- local state


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory with no configuration and no state store."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VPNBOT_CONFIG", raising=False)
    return tmp_path


#: The state store's engines. `store` and `state_url` run on each; `state` too in a module marked `both_stores`.
STORE_BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "state_backend" in metafunc.fixturenames:
        asked = set(inspect.signature(metafunc.function).parameters)  # `state` asks for state_url too: not this
        both = {"store", "state_url"} & asked or metafunc.definition.get_closest_marker("both_stores")
        if both:
            metafunc.parametrize("state_backend", STORE_BACKENDS, scope="function")


@pytest.fixture
def state_backend() -> str:
    """The engine of `state` outside a `both_stores` module (parametrised over both by pytest_generate_tests)."""
    return "sqlite"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """A PostgreSQL server for the whole session: VPNBOT_TEST_PG_URL's, else a throwaway cluster of ours
    (tests/support/postgres.py). None found: the PostgreSQL cases are skipped, or fail under CI=true."""
    external = server_from_environment()
    if external is not None:
        yield external
        return
    bindir = find_bindir()
    if bindir is None:
        reason = "no PostgreSQL server here (initdb/postgres not found, VPNBOT_TEST_PG_URL not set)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}: CI must run the store tests on PostgreSQL")
        pytest.skip(reason)
    cluster = Cluster.start_new(bindir=bindir)
    yield cluster
    cluster.remove()


@pytest.fixture
def state_url(state_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """Where an empty state store goes: a SQLite path, or a PostgreSQL URL whose search_path is a fresh schema."""
    if state_backend == "sqlite":
        yield str(tmp_path / "state.db")
        return
    server: Server = request.getfixturevalue("pg_server")
    url, schema = server.new_schema()
    yield url
    server.drop_schema(schema)


@pytest.fixture
def store(state_url: str) -> Iterator[StateStore]:
    """An empty state store on each engine."""
    from bot.state import open_store  # lazy: only the tests that use a state store import bot/ for it

    opened = open_store(state_url)
    yield opened
    opened.close()


@pytest.fixture
def state(state_url: str) -> Iterator[StateStore]:
    """An empty state store (SQLite in the test's temporary directory; also PostgreSQL in a `both_stores` module)."""
    from bot.state import open_store  # lazy: only the tests that use a state store import bot/ for it

    opened = open_store(state_url)
    yield opened
    opened.close()
