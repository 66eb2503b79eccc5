from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import postgres as postgres_support
from tests.support.servers import MotoS3, ReelrankServer

SERVER_QUOTAS = ["--quota", "dataset_groups=1000", "--quota", "schemas=1000"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[postgres_support.PostgresServer]:
    """A real PostgreSQL server on a loopback port (tests using it are skipped where it is not installed)."""
    reason = postgres_support.missing()
    if reason is not None:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    folder = Path(tempfile.mkdtemp(prefix="reelrank-postgres-"))  # outside pytest's folders, which only root reads
    server = postgres_support.PostgresServer(folder).start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    server = MotoS3().start()
    yield server
    server.stop()


def s3_env(moto: MotoS3) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL_S3": moto.url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def import_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("imports")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, moto_s3: MotoS3, import_root: Path) -> Iterator[ReelrankServer]:
    """One reelrank server shared by the tests that only add resources of their own."""
    running = ReelrankServer(tmp_path_factory.mktemp("server") / "data", import_root, SERVER_QUOTAS,
                             s3_env(moto_s3)).start()
    yield running
    running.stop()
