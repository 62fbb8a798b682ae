"""A private PostgreSQL cluster for tests that stop, kill and restart the database.

The cluster lives in a temporary folder (data and unix socket), listens on a free port of
127.0.0.1 with trust auth, and belongs to whoever runs the tests. PostgreSQL refuses to run as
root, so under root (CI containers) the folder is handed to an unprivileged system user and
every binary runs through ``runuser``. The machine's shared server is never touched.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.databases import PgServer

# Debian's layout: the machine's server is 15; a newer major version installed beside it works too.
BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), *sorted(Path("/usr/lib/postgresql").glob("*/bin")))
START_TIMEOUT_S = 60.0
# Candidates to run PostgreSQL as when the tests run as root, the first that exists wins.
UNPRIVILEGED = ("postgres", "nobody")


class ClusterError(RuntimeError):
    """The private cluster could not be created, started or stopped."""


def binaries() -> Path | None:
    """The folder holding ``initdb``/``pg_ctl``, or None when PostgreSQL is not installed."""
    found = os.environ.get("PILOTGRAPH_TEST_PG_BIN")
    candidates = (Path(found),) if found else BIN_DIRS
    return next((d for d in candidates if (d / "initdb").is_file()), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run_as() -> str | None:
    """The user to run PostgreSQL as: None for the current one, a system user under root."""
    if os.geteuid() != 0:
        return None
    for name in UNPRIVILEGED:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise ClusterError("running as root and no unprivileged user to run PostgreSQL as")


@dataclass
class PgCluster:
    """One cluster: ``start``, ``stop_immediate``, ``kill_postmaster``, ``destroy``."""

    bin_dir: Path
    root: Path
    port: int
    user: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def sockets(self) -> Path:
        return self.root / "sockets"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    @property
    def server(self) -> PgServer:
        return PgServer(host="127.0.0.1", port=self.port, superuser="postgres")

    @classmethod
    def create(cls, bin_dir: Path) -> PgCluster:
        """``initdb`` a new cluster in a fresh temporary folder (not started)."""
        user = _run_as()
        root = Path(tempfile.mkdtemp(prefix="pilotgraph-pg-"))
        cluster = cls(bin_dir, root, free_port(), user)
        cluster.sockets.mkdir()
        if user is not None:
            entry = pwd.getpwnam(user)
            for path in (root, cluster.sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        cluster._run(
            "initdb", "-D", str(cluster.data), "-U", "postgres", "--auth=trust", "--no-sync"
        )
        return cluster

    def start(self) -> None:
        """Start the postmaster; retried while a killed one's backends still hold its memory."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            result = self._pg_ctl(
                "start", "-w", "-t", "30", "-l", str(self.log), "-o", self._opts()
            )
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise ClusterError(f"pg_ctl start failed: {result.stdout}\n{self._log_tail()}")
            time.sleep(0.2)

    def stop_immediate(self) -> None:
        """``pg_ctl stop -m immediate``: every process quits without a checkpoint."""
        result = self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "30")
        if result.returncode != 0:
            raise ClusterError(f"pg_ctl stop failed: {result.stdout}")

    def kill_postmaster(self) -> int:
        """SIGKILL the postmaster (its backends find out on their own); its pid."""
        pid = self.postmaster_pid()
        if pid is None:
            raise ClusterError("no postmaster to kill")
        os.kill(pid, signal.SIGKILL)
        return pid

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def destroy(self) -> None:
        """Stop whatever still runs (gently, then by force) and remove the folder."""
        if self.postmaster_pid() is not None:
            self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "10")
        for pid in self._processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def _processes(self) -> list[int]:
        """Every process whose command line names this cluster's data folder."""
        found = []
        marker = str(self.data).encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if marker in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def _opts(self) -> str:
        return (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1"
            " -c max_connections=200 -c log_min_messages=warning"
        )

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run("pg_ctl", "-D", str(self.data), *args, check=False)

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / tool), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(
            command,
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=START_TIMEOUT_S + 30,
            check=False,
        )
        if check and result.returncode != 0:
            raise ClusterError(f"{tool} failed ({result.returncode}): {result.stdout}")
        return result

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""
