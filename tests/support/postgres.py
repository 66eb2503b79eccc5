"""A real PostgreSQL server for tests: a fresh cluster in a temporary folder, on a loopback port.

PostgreSQL refuses to run as root; under root (CI's containers) the cluster belongs to the `postgres` user that
Debian's package creates. Tests that need it are skipped where PostgreSQL or psycopg is missing (`.ci/run` installs
both)."""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.servers import free_port

SUPERUSER = "postgres"


def postgres_bin() -> Path | None:
    """The folder of Debian's PostgreSQL server programs (initdb, postgres), the newest version installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))
    return Path(found[-1]).parent if found else None


def missing() -> str | None:
    """Why PostgreSQL tests cannot run here, or None."""
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not installed (pip install 'reelrank[postgres]')"
    if postgres_bin() is None:
        return "PostgreSQL is not installed (apt-get install -y postgresql)"
    return None


@dataclass
class PostgresServer:
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = SUPERUSER) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        bin_dir = postgres_bin()
        assert bin_dir is not None, missing()
        data = self.folder / "data"
        self.folder.mkdir(parents=True, exist_ok=True)
        owner = pwd.getpwnam(SUPERUSER) if os.geteuid() == 0 else None
        if owner is not None:
            shutil.chown(self.folder, owner.pw_uid, owner.pw_gid)
        user, group = (owner.pw_uid, owner.pw_gid) if owner else (None, None)
        subprocess.run([str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                        "--no-sync"], check=True, capture_output=True, user=user, group=group)
        self.process = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(data), "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
             "-c", f"unix_socket_directories={self.folder}", "-c", "fsync=off", "-c", "max_connections=200"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, user=user, group=group)
        self._wait_until_up()
        return self

    def _wait_until_up(self, timeout: float = 30.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, "postgres exited"
            try:
                psycopg.connect(self._dsn(SUPERUSER), connect_timeout=1).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise TimeoutError("PostgreSQL did not come up")

    def _dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database}"

    def new_database(self) -> str:
        """The URL of a new, empty database."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self._dsn(SUPERUSER), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)  # a "fast" shutdown: SIGTERM's "smart" one waits for clients
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
