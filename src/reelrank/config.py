"""Settings in one place: where data lives, who may call, and the limits the service enforces."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEMO_ACCESS_KEY = "AKIAREELRANKDEMO0001"
DEMO_SECRET_KEY = "reelrank-demo-secret-key-change-me-0000001"

MAX_BODY_BYTES = 1024 * 1024
"""Largest request body accepted; Personalize's biggest requests (10 items of 32 KB) fit well inside."""

SIGNATURE_MAX_SKEW_SECONDS = 5 * 60


@dataclass(frozen=True)
class Quotas:
    """Reference §9 defaults; the adjustable ones can be raised with `reelrank serve --quota NAME=VALUE`."""

    schemas: int = 500
    dataset_groups: int = 5
    pending_import_jobs: int = 5
    pending_export_jobs: int = 5
    pending_deletion_jobs_per_group: int = 5
    tags_per_resource: int = 50
    recommenders_per_group: int = 5
    filters_per_group: int = 30
    pending_batch_inference_jobs: int = 5
    min_interactions_per_import: int = 1000


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    metadata_url: str | None = None
    """SQLAlchemy URL of the metadata store; defaults to SQLite inside `data_dir`."""
    region: str = "us-east-1"
    account: str = "000000000000"
    credentials: dict[str, str] = field(default_factory=lambda: {DEMO_ACCESS_KEY: DEMO_SECRET_KEY})
    auth: bool = True
    import_roots: tuple[Path, ...] = ()
    """Local folders that import, export and deletion jobs may read from or write to (besides s3://)."""
    s3_endpoint_url: str | None = field(default_factory=lambda: os.environ.get("AWS_ENDPOINT_URL_S3"))
    max_concurrent_jobs: int = 2
    max_body_bytes: int = MAX_BODY_BYTES
    quotas: Quotas = field(default_factory=Quotas)

    @property
    def database_url(self) -> str:
        return self.metadata_url or f"sqlite:///{(self.data_dir / 'metadata.db').resolve()}"

    @property
    def datasets_dir(self) -> Path:
        return self.data_dir / "datasets"

    def allowed_roots(self) -> tuple[Path, ...]:
        return tuple(root.resolve() for root in (*self.import_roots, self.data_dir / "imports"))
