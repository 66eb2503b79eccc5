"""Dataset export jobs: the data set's current contents as CSV with a header row, to file:// or s3://."""

from __future__ import annotations

import pyarrow.csv as pacsv

from reelrank.ingest.locations import store
from reelrank.service.vocabulary import ACTIVE

from .context import JobContext
from .inputs import dataset_and_schema, location, scratch


def run_dataset_export(job: JobContext) -> None:
    body = job.start().body
    dataset, schema = dataset_and_schema(job, body["datasetArn"])
    where = location(job, body["jobOutput"]["s3DataDestination"]["path"].rstrip("/") + "/")
    with job.store.transaction() as tx:
        version = tx.current_dataset_version(dataset.arn)
    bulk = job.files.read(version.files, dataset.body["datasetType"]) if version else None
    # Records put one by one (PutEvents/PutItems/PutUsers) are not stored yet, so PUT exports no rows.
    exported = body["ingestionMode"] in ("BULK", "ALL") and bulk is not None
    table = bulk if exported and bulk is not None else schema.arrow_schema.empty_table()
    with scratch(job) as folder:
        output = folder / "export.csv"
        pacsv.write_csv(table, output)
        store(output, where, f"{body['jobName']}_{dataset.body['datasetType']}.csv", job.settings)
    with job.store.transaction() as tx:
        job.finish(tx, ACTIVE)
