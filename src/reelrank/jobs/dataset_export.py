"""Dataset export jobs: the data set's current contents as CSV with a header row, to file:// or s3://."""

from __future__ import annotations

import pyarrow.csv as pacsv

from reelrank.ingest.locations import store
from reelrank.service.vocabulary import ACTIVE
from reelrank.store.contents import contents

from .context import JobContext
from .inputs import dataset_and_schema, location, scratch


def run_dataset_export(job: JobContext) -> None:
    body = job.start().body
    dataset, schema = dataset_and_schema(job, body["datasetArn"])
    where = location(job, body["jobOutput"]["s3DataDestination"]["path"].rstrip("/") + "/")
    mode = body["ingestionMode"]
    with job.store.transaction() as tx:
        table = contents(tx, job.files, dataset, schema, bulk=mode in ("BULK", "ALL"), put=mode in ("PUT", "ALL"))
    if table is None:
        table = schema.arrow_schema.empty_table()
    with scratch(job) as folder:
        output = folder / "export.csv"
        pacsv.write_csv(table, output)
        store(output, where, f"{body['jobName']}_{dataset.body['datasetType']}.csv", job.settings)
    with job.store.transaction() as tx:
        job.finish(tx, ACTIVE)
