from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import MotoS3, ReelrankServer

SERVER_QUOTAS = ["--quota", "dataset_groups=1000", "--quota", "schemas=1000"]


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
