"""Dataset import jobs: CSV (file:// or s3://) → validated Parquet → a new data set version, atomically."""

from __future__ import annotations

from reelrank.ingest.csv_import import ImportFailed, convert
from reelrank.service.vocabulary import ACTIVE

from .context import JobContext, JobFailed, RowMeter
from .inputs import dataset_and_schema, input_files, location, scratch


def run_dataset_import(job: JobContext) -> None:
    body = job.start().body
    dataset, schema = dataset_and_schema(job, body["datasetArn"])
    where = location(job, body["dataSource"]["dataLocation"])
    partial, final = job.files.new_file(dataset.arn)
    published = False
    try:
        with scratch(job) as folder:
            files = input_files(job, where, folder)
            meter = RowMeter(job, float(sum(path.stat().st_size for path in files)),
                             stage=lambda m: f"validating and converting: {m.rows:,} rows")
            meter.report()

            def advance(done: int, rows: int) -> None:
                meter.add(rows - meter.rows, done - meter.done)

            try:
                rows = convert(files, schema, partial, advance)
                meter.report()
            except ImportFailed as failure:
                raise JobFailed(str(failure)) from None
        minimum = job.settings.quotas.min_interactions_per_import
        if dataset.body["datasetType"] == "INTERACTIONS" and rows < minimum:
            raise JobFailed(f"The import has {rows} interaction records; a dataset import job needs at least "
                            f"{minimum}.")
        partial.replace(final)
        with job.store.transaction() as tx:
            job.owned(tx)
            current = tx.current_dataset_version(dataset.arn)
            keep = current.files if current and body["importMode"] == "INCREMENTAL" else []
            total = (current.rows if current and keep else 0) + rows
            tx.publish_dataset_version(dataset.arn, [*keep, job.files.relative(final)], total, job.arn)
            tx.drop_dataset_versions(dataset.arn, keep_latest=True)
            job.finish(tx, ACTIVE)
        published = True
    finally:
        partial.unlink(missing_ok=True)
        if not published:
            final.unlink(missing_ok=True)
