"""A throwaway PostgreSQL server for the tests: `initdb` into a temporary directory, `postgres` on 127.0.0.1 and a
socket in that directory, a fresh schema per test, stopped (and its directory removed) at the end.

The binaries come from `pg_config --bindir`, /usr/lib/postgresql/*/bin or PATH. initdb refuses to run as root: as
root, the server runs as an unprivileged user (`postgres`, else `nobody`) that owns the directory. With
VPNBOT_TEST_PG_URL set, that server is used instead (CI starts one: `python tests/support/postgres.py start DIR`
prints its URL; `... stop DIR` stops it).

    cluster = Cluster.start_new()          # in a new directory under /tmp; or server_from_environment()
    url = cluster.new_schema()             # postgresql://postgres@127.0.0.1:PORT/postgres?options=-csearch_path%3Dt_3
    cluster.stop(); cluster.start()        # the server gone and back (the store's failure tests)
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ENV_URL = "VPNBOT_TEST_PG_URL"
SUPERUSER = "postgres"
_schemas = itertools.count(1)


def find_bindir() -> Path | None:
    """Where initdb and postgres are, or None."""
    candidates: list[str] = []
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
        candidates.append(out)
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(str(Path(found).resolve().parent))
    for directory in candidates:
        if directory and (Path(directory) / "initdb").is_file() and (Path(directory) / "postgres").is_file():
            return Path(directory)
    return None


def _run_as() -> str | None:
    """The user the server runs as: None (this one) unless this is root, which initdb refuses."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(["useradd", "--system", "--no-create-home", "vpnbot-pg"], check=True)
    return "vpnbot-pg"


def _as_user(user: str | None) -> dict:
    """subprocess options running as `user`, with its own group only (root's groups would decide file access)."""
    if not user:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A PostgreSQL server the tests may use: fresh schemas on it."""

    def __init__(self, url: str) -> None:
        self.base_url = url

    def url(self, schema: str | None = None) -> str:
        if not schema:
            return self.base_url
        sep = "&" if "?" in self.base_url else "?"
        return f"{self.base_url}{sep}options={quote(f'-csearch_path={schema}')}"

    def execute(self, sql: str) -> None:
        import psycopg  # lazy load: only tests on PostgreSQL need it

        with psycopg.connect(self.base_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql)

    def new_schema(self) -> tuple[str, str]:
        """(url, schema): an empty schema of its own, first in the URL's search_path."""
        schema = f"t_{os.getpid()}_{next(_schemas)}"
        self.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
        return self.url(schema), schema

    def drop_schema(self, schema: str) -> None:
        with contextlib.suppress(Exception):  # a test that stopped the server leaves its schema: the cluster goes
            self.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


class Cluster(Server):
    """A server of our own in `directory` (data/ and the socket), which the tests can stop and start."""

    def __init__(self, directory: Path, bindir: Path, port: int | None = None) -> None:
        self.directory = Path(directory)
        self.bindir = bindir
        self.port = port or free_port()
        self.user = _run_as()
        self.process: subprocess.Popen | None = None
        super().__init__(f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres")

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @classmethod
    def start_new(cls, directory: Path | None = None, bindir: Path | None = None) -> Cluster:
        """A new cluster in `directory` (default: a new directory under /tmp, outside pytest's private ones, which
        another pytest run may close to other users at any time)."""
        bindir = bindir or find_bindir()
        if bindir is None:
            raise FileNotFoundError("no PostgreSQL server binaries (initdb, postgres) here")
        if directory is None:
            directory = Path(tempfile.mkdtemp(prefix="vpnbot-pg-"))
            directory.chmod(0o711)
            directory = directory / "cluster"
        cluster = cls(directory, bindir)
        cluster.init()
        cluster.start()
        return cluster

    def _own(self, path: Path) -> None:
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._own(self.directory)
        self.directory.chmod(0o755)
        subprocess.run([str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "-A", "trust",
                        "-E", "UTF8", "--no-locale", "--no-sync"], check=True, capture_output=True,
                       cwd=self.directory, **_as_user(self.user))

    def start(self) -> None:
        """Start the server (again) on the same port, and wait until it takes connections."""
        log = open(self.directory / "server.log", "ab")  # noqa: SIM115 (the server writes it while it runs)
        self.process = subprocess.Popen(
            [str(self.bindir / "postgres"), "-D", str(self.data), "-h", "127.0.0.1", "-p", str(self.port),
             "-k", str(self.directory), "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=300", "-c", "shared_buffers=32MB"],
            stdout=log, stderr=log, cwd=self.directory, start_new_session=True, **_as_user(self.user))
        log.close()
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        give_up = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                tail = (self.directory / "server.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"postgres exited with {self.process.returncode}:\n{tail}")
            try:
                self.execute("SELECT 1")
                return
            except Exception:
                if time.monotonic() > give_up:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Fast shutdown: open connections are cut, as when the server is stopped or fails over."""
        pid = self.process.pid if self.process else _pid_of(self.data)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        if self.process is not None:
            self.process.wait(60)
            self.process = None
        else:
            give_up = time.monotonic() + 60
            while _alive(pid) and time.monotonic() < give_up:
                time.sleep(0.05)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
        if self.directory.name == "cluster" and self.directory.parent.name.startswith("vpnbot-pg-"):
            shutil.rmtree(self.directory.parent, ignore_errors=True)


def _pid_of(data: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((data / "postmaster.pid").read_text().split()[0])
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def server_from_environment() -> Server | None:
    url = os.environ.get(ENV_URL, "").strip()
    return Server(url) if url else None


def main(argv: list[str]) -> int:
    """`start DIR`: a cluster in DIR (detached), its URL printed; `stop DIR`: stopped and DIR removed."""
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python tests/support/postgres.py start|stop DIR", file=sys.stderr)
        return 2
    command, directory = argv[0], Path(argv[1]).resolve()
    if command == "stop":
        cluster = Cluster(directory, Path("."), port=1)
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)
        return 0
    bindir = find_bindir()
    if bindir is None:
        print("no PostgreSQL server binaries (initdb, postgres): install Debian's postgresql package",
              file=sys.stderr)
        return 1
    cluster = Cluster.start_new(directory, bindir)
    print(cluster.base_url)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
