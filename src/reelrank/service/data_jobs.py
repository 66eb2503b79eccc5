"""Dataset import jobs, dataset export jobs and data deletion jobs: validated here, run by `reelrank.jobs`."""

from __future__ import annotations

from typing import Any

from reelrank.errors import LimitExceededException
from reelrank.ingest.locations import parse_location
from reelrank.jobs.kinds import DATA_DELETION, DATASET_EXPORT, DATASET_IMPORT
from reelrank.service.context import Context
from reelrank.service.datasets import DATASET, DATASET_GROUP, DATASET_IMPORT_JOB, require_active
from reelrank.service.tagging import apply_tags
from reelrank.service.vocabulary import CREATE_PENDING, PENDING, RUNNING_STATUSES
from reelrank.store.metadata import Transaction

DATASET_EXPORT_JOB, DATA_DELETION_JOB = "dataset-export-job", "data-deletion-job"
_RUNNING_DELETION = (PENDING, "IN_PROGRESS")


class DataJobs:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _running(self, tx: Transaction, kind: str, statuses: tuple[str, ...], limit: int,
                 parent: str | None = None) -> None:
        if tx.count_resources(kind, parent, statuses) >= limit:
            raise LimitExceededException(f"More than {limit} resources with PENDING or IN_PROGRESS status.")

    def _create(self, kind: str, job_kind: str, parent: str, params: dict[str, Any], body: dict[str, Any],
                status: str, tx: Transaction) -> str:
        arn = self.ctx.arn(f"{kind}/{params['jobName']}")
        body = {"jobName": params["jobName"], f"{_camel(kind)}Arn": arn, **body}
        tx.insert_resource(kind, arn, params["jobName"], parent, status, body)
        apply_tags(tx, arn, params.get("tags"), self.ctx.settings.quotas.tags_per_resource)
        tx.enqueue_job(arn, job_kind, {})
        return arn

    # dataset import jobs
    def create_dataset_import_job(self, params: dict[str, Any]) -> dict[str, Any]:
        parse_location(params["dataSource"]["dataLocation"], self.ctx.settings)
        body: dict[str, Any] = {key: params[key] for key in ("datasetArn", "dataSource", "roleArn") if key in params}
        body["importMode"] = params.get("importMode", "FULL")
        body["publishAttributionMetricsToS3"] = params.get("publishAttributionMetricsToS3", False)
        with self.ctx.transaction() as tx:
            require_active(tx, params["datasetArn"], DATASET)
            self._running(tx, DATASET_IMPORT_JOB, RUNNING_STATUSES, self.ctx.settings.quotas.pending_import_jobs)
            arn = self._create(DATASET_IMPORT_JOB, DATASET_IMPORT, params["datasetArn"], params, body,
                               CREATE_PENDING, tx)
        self.ctx.wake_jobs()
        return {"datasetImportJobArn": arn}

    def describe_dataset_import_job(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.describe_one(DATASET_IMPORT_JOB, params["datasetImportJobArn"], "datasetImportJob")

    def list_dataset_import_jobs(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.list_page(DATASET_IMPORT_JOB, params, "datasetImportJobs", "datasetArn")

    # dataset export jobs
    def create_dataset_export_job(self, params: dict[str, Any]) -> dict[str, Any]:
        parse_location(params["jobOutput"]["s3DataDestination"]["path"], self.ctx.settings)
        body = {key: params[key] for key in ("datasetArn", "roleArn", "jobOutput")}
        body["ingestionMode"] = params.get("ingestionMode", "PUT")
        with self.ctx.transaction() as tx:
            require_active(tx, params["datasetArn"], DATASET)
            self._running(tx, DATASET_EXPORT_JOB, RUNNING_STATUSES, self.ctx.settings.quotas.pending_export_jobs)
            arn = self._create(DATASET_EXPORT_JOB, DATASET_EXPORT, params["datasetArn"], params, body,
                               CREATE_PENDING, tx)
        self.ctx.wake_jobs()
        return {"datasetExportJobArn": arn}

    def describe_dataset_export_job(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.describe_one(DATASET_EXPORT_JOB, params["datasetExportJobArn"], "datasetExportJob")

    def list_dataset_export_jobs(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.list_page(DATASET_EXPORT_JOB, params, "datasetExportJobs", "datasetArn")

    # data deletion jobs
    def create_data_deletion_job(self, params: dict[str, Any]) -> dict[str, Any]:
        parse_location(params["dataSource"]["dataLocation"], self.ctx.settings)
        group_arn = params["datasetGroupArn"]
        body = {key: params[key] for key in ("datasetGroupArn", "dataSource", "roleArn")}
        with self.ctx.transaction() as tx:
            require_active(tx, group_arn, DATASET_GROUP)
            self._running(tx, DATA_DELETION_JOB, _RUNNING_DELETION,
                          self.ctx.settings.quotas.pending_deletion_jobs_per_group, group_arn)
            arn = self._create(DATA_DELETION_JOB, DATA_DELETION, group_arn, params, body, PENDING, tx)
        self.ctx.wake_jobs()
        return {"dataDeletionJobArn": arn}

    def describe_data_deletion_job(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.describe_one(DATA_DELETION_JOB, params["dataDeletionJobArn"], "dataDeletionJob")

    def list_data_deletion_jobs(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.list_page(DATA_DELETION_JOB, params, "dataDeletionJobs", "datasetGroupArn", newest_first=True)


def _camel(kind: str) -> str:
    head, *rest = kind.split("-")
    return head + "".join(part.capitalize() for part in rest)
