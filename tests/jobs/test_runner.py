"""Unit tests for JobRunner.recover(): resuming or failing jobs left running, and removing stray files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reelrank.config import Settings
from reelrank.jobs.kinds import DATA_DELETION, DATASET_IMPORT
from reelrank.jobs.runner import MAX_ATTEMPTS, JobRunner
from reelrank.store.datasets import DatasetFiles
from reelrank.store.metadata import Job, MetadataStore, Resource

GROUP = "arn:aws:personalize:us-east-1:000000000000:dataset-group/movies"
DATASET = "arn:aws:personalize:us-east-1:000000000000:dataset/movies/INTERACTIONS"
IMPORT_JOB = "arn:aws:personalize:us-east-1:000000000000:dataset-import-job/import-1"
DELETION_JOB = "arn:aws:personalize:us-east-1:000000000000:data-deletion-job/delete-1"
GIVE_UP = "The job was interrupted by a server restart 3 times and was not resumed again."


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


@pytest.fixture
def store(settings: Settings) -> Iterator[MetadataStore]:
    created = MetadataStore(settings.database_url)
    created.migrate()
    yield created
    created.dispose()


@pytest.fixture
def files(settings: Settings) -> DatasetFiles:
    return DatasetFiles(settings.datasets_dir)


@pytest.fixture
def runner(settings: Settings, store: MetadataStore, files: DatasetFiles) -> JobRunner:
    return JobRunner(settings, store, files)


def start_job(store: MetadataStore, arn: str, kind: str, resource_kind: str, status: str, attempts: int = 1) -> Job:
    """A resource whose job has been claimed `attempts` times and is running now (as after a crash)."""
    with store.transaction() as tx:
        tx.insert_resource(resource_kind, arn, arn.rsplit("/", 1)[1], GROUP, status, {"jobName": "j"})
        tx.enqueue_job(arn, kind, {})
    job = None
    for attempt in range(attempts):
        with store.transaction() as tx:
            if attempt:
                tx.set_job_state(arn, "queued")
            job = tx.claim_job()
    assert job is not None
    assert (job.state, job.attempts) == ("running", attempts)
    return job


def resource(store: MetadataStore, arn: str) -> Resource:
    with store.transaction() as tx:
        found = tx.get_resource(arn)
    assert found is not None
    return found


def running(store: MetadataStore) -> list[str]:
    with store.transaction() as tx:
        return [job.arn for job in tx.running_jobs()]


def test_running_job_is_requeued(runner: JobRunner, store: MetadataStore) -> None:
    before = start_job(store, IMPORT_JOB, DATASET_IMPORT, "dataset-import-job", "CREATE IN_PROGRESS")
    runner.recover()
    assert running(store) == []
    assert resource(store, IMPORT_JOB).status == "CREATE PENDING"
    with store.transaction() as tx:
        assert before.token is not None
        assert not tx.job_holds(IMPORT_JOB, before.token)
        again = tx.claim_job()
    assert again is not None
    assert (again.arn, again.attempts) == (IMPORT_JOB, 2)


def test_requeue_keeps_the_resource_body(runner: JobRunner, store: MetadataStore) -> None:
    start_job(store, IMPORT_JOB, DATASET_IMPORT, "dataset-import-job", "CREATE IN_PROGRESS")
    runner.recover()
    assert resource(store, IMPORT_JOB).body == {"jobName": "j"}


def test_second_attempt_is_requeued(runner: JobRunner, store: MetadataStore) -> None:
    start_job(store, IMPORT_JOB, DATASET_IMPORT, "dataset-import-job", "CREATE IN_PROGRESS", attempts=2)
    runner.recover()
    assert resource(store, IMPORT_JOB).status == "CREATE PENDING"
    with store.transaction() as tx:
        again = tx.claim_job()
    assert again is not None
    assert again.attempts == 3


def test_data_deletion_job_goes_back_to_pending(runner: JobRunner, store: MetadataStore) -> None:
    start_job(store, DELETION_JOB, DATA_DELETION, "data-deletion-job", "IN_PROGRESS")
    runner.recover()
    assert resource(store, DELETION_JOB).status == "PENDING"
    with store.transaction() as tx:
        again = tx.claim_job()
    assert again is not None
    assert again.arn == DELETION_JOB


def test_job_interrupted_three_times_fails(runner: JobRunner, store: MetadataStore) -> None:
    assert MAX_ATTEMPTS == 3
    start_job(store, IMPORT_JOB, DATASET_IMPORT, "dataset-import-job", "CREATE IN_PROGRESS", attempts=3)
    runner.recover()
    failed = resource(store, IMPORT_JOB)
    assert failed.status == "CREATE FAILED"
    assert failed.body == {"jobName": "j", "failureReason": GIVE_UP}
    assert running(store) == []
    with store.transaction() as tx:
        assert tx.claim_job() is None


def test_data_deletion_interrupted_three_times_fails(runner: JobRunner, store: MetadataStore) -> None:
    start_job(store, DELETION_JOB, DATA_DELETION, "data-deletion-job", "IN_PROGRESS", attempts=3)
    runner.recover()
    failed = resource(store, DELETION_JOB)
    assert (failed.status, failed.body["failureReason"]) == ("FAILED", GIVE_UP)


def test_job_without_a_resource_is_failed(runner: JobRunner, store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.enqueue_job(IMPORT_JOB, DATASET_IMPORT, {})
        tx.claim_job()
    runner.recover()
    assert running(store) == []
    with store.transaction() as tx:
        assert tx.claim_job() is None


def test_queued_and_finished_jobs_are_left_alone(runner: JobRunner, store: MetadataStore) -> None:
    with store.transaction() as tx:
        tx.insert_resource("dataset-import-job", IMPORT_JOB, "import-1", GROUP, "CREATE PENDING", {})
        tx.enqueue_job(IMPORT_JOB, DATASET_IMPORT, {})
        tx.insert_resource("data-deletion-job", DELETION_JOB, "delete-1", GROUP, "COMPLETED", {})
        tx.enqueue_job(DELETION_JOB, DATA_DELETION, {})
    with store.transaction() as tx:
        tx.set_job_state(DELETION_JOB, "done")
    runner.recover()
    assert resource(store, IMPORT_JOB).status == "CREATE PENDING"
    assert resource(store, DELETION_JOB).status == "COMPLETED"
    with store.transaction() as tx:
        claimed = tx.claim_job()
        assert claimed is not None
        assert (claimed.arn, claimed.attempts) == (IMPORT_JOB, 1)
        assert tx.claim_job() is None


def write_parquet(files: DatasetFiles, dataset_arn: str) -> Path:
    final = files.new_file(dataset_arn)[1]
    pq.write_table(pa.table({"USER_ID": ["u1"]}), final)
    return final


def test_recover_removes_unlisted_dataset_files(runner: JobRunner, store: MetadataStore, files: DatasetFiles) -> None:
    listed = write_parquet(files, DATASET)
    older = write_parquet(files, DATASET)
    stray = write_parquet(files, DATASET)
    partial = files.new_file(DATASET)[0]
    partial.write_bytes(b"half-written")
    with store.transaction() as tx:
        tx.insert_resource("dataset", DATASET, "INTERACTIONS", GROUP, "ACTIVE", {})
        tx.publish_dataset_version(DATASET, [files.relative(older)], 1, IMPORT_JOB)
        tx.publish_dataset_version(DATASET, [files.relative(listed)], 1, IMPORT_JOB)
    runner.recover()
    assert listed.exists()
    assert older.exists()
    assert not stray.exists()
    assert not partial.exists()


def test_recover_empties_the_folder_of_a_deleted_dataset(runner: JobRunner, files: DatasetFiles) -> None:
    orphan = write_parquet(files, DATASET)
    runner.recover()
    assert not orphan.exists()


def test_recover_without_a_datasets_folder(runner: JobRunner, files: DatasetFiles) -> None:
    runner.recover()
    assert not files.root.exists()
