"""What a running job sees: its resource, its progress, and whether it still owns the job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reelrank.config import Settings
from reelrank.service.vocabulary import (
    CREATE_FAILED,
    CREATE_IN_PROGRESS,
    FAILED,
    IN_PROGRESS,
    PENDING,
)
from reelrank.store.datasets import DatasetFiles
from reelrank.store.metadata import MetadataStore, Resource, Transaction

from .kinds import BATCH_INFERENCE, BATCH_SEGMENT, DATA_DELETION


class JobFailed(Exception):
    """Ends a job with CREATE FAILED (or FAILED); the message becomes its failureReason."""


class JobLost(Exception):
    """The job was taken away (a restart or a stop) while it ran: publish nothing."""


def in_progress_status(kind: str) -> str:
    return {DATA_DELETION: IN_PROGRESS, BATCH_INFERENCE: "IN PROGRESS", BATCH_SEGMENT: "IN PROGRESS"}.get(
        kind, CREATE_IN_PROGRESS)


def failed_status(kind: str) -> str:
    return FAILED if kind == DATA_DELETION else CREATE_FAILED


def pending_status(kind: str, default: str) -> str:
    return PENDING if kind in (DATA_DELETION, BATCH_INFERENCE, BATCH_SEGMENT) else default


@dataclass
class JobContext:
    settings: Settings
    store: MetadataStore
    files: DatasetFiles
    arn: str
    kind: str
    token: str
    payload: dict[str, Any]

    def resource(self) -> Resource:
        with self.store.transaction() as tx:
            resource = tx.get_resource(self.arn)
        if resource is None:
            raise JobLost(f"{self.arn} no longer exists")
        return resource

    def owned(self, tx: Transaction) -> None:
        """Raise JobLost unless this run still owns the job; call inside the publishing transaction."""
        if not tx.job_holds(self.arn, self.token):
            raise JobLost(f"{self.arn} was taken over")

    def start(self) -> Resource:
        with self.store.transaction() as tx:
            self.owned(tx)
            tx.update_resource(self.arn, status=in_progress_status(self.kind))
            resource = tx.get_resource(self.arn)
        assert resource is not None
        return resource

    def progress(self, stage: str, percent: float) -> None:
        with self.store.transaction() as tx:
            self.owned(tx)
            tx.set_job_progress(self.arn, stage, percent)

    def finish(self, tx: Transaction, status: str, body: dict[str, Any] | None = None) -> None:
        self.owned(tx)
        tx.update_resource(self.arn, status=status, body=body)
        tx.set_job_state(self.arn, "done")

    def fail(self, reason: str) -> None:
        with self.store.transaction() as tx:
            if not tx.job_holds(self.arn, self.token):
                return
            resource = tx.get_resource(self.arn)
            body = dict(resource.body, failureReason=reason) if resource else None
            tx.update_resource(self.arn, status=failed_status(self.kind), body=body)
            tx.set_job_state(self.arn, "failed")
