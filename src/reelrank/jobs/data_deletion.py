"""Data deletion jobs: remove the listed users' records from every dataset of the group that has USER_ID."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from reelrank.service.vocabulary import COMPLETED

from .context import JobContext, JobFailed
from .inputs import input_files, location, scratch

_USER_DATASETS = ("INTERACTIONS", "USERS", "ACTION_INTERACTIONS")
_MAX_INPUT_BYTES = 100 * 1024 * 1024
_ATTEMPTS = 3


def run_data_deletion(job: JobContext) -> None:
    body = job.start().body
    users = _read_user_ids(job, body["dataSource"]["dataLocation"])
    for _ in range(_ATTEMPTS):
        if _delete_once(job, users):
            return
    raise JobFailed("The datasets kept changing while users were being deleted; try again.")


def _read_user_ids(job: JobContext, uri: str) -> pa.Array:
    with scratch(job) as folder:
        files = input_files(job, location(job, uri), folder)
        if sum(path.stat().st_size for path in files) > _MAX_INPUT_BYTES:
            raise JobFailed("The data deletion input is larger than 100 MB.")
        ids = []
        for path in files:
            try:
                options = pacsv.ConvertOptions(column_types={"USER_ID": pa.string()})
                table = pacsv.read_csv(path, convert_options=options)
            except pa.ArrowInvalid as error:
                raise JobFailed(f"Input file {path.name} is not a valid CSV: {error}") from None
            if table.column_names != ["USER_ID"]:
                raise JobFailed(f"Input file {path.name} must have exactly one column, USER_ID; "
                                f"found {table.column_names}.")
            ids.append(table.column("USER_ID").combine_chunks())
    return pc.unique(pa.concat_arrays(ids)) if ids else pa.array([], pa.string())


def _delete_once(job: JobContext, users: pa.Array) -> bool:
    """One optimistic pass; False when a dataset changed underneath (the pass is then discarded)."""
    group = job.resource().body["datasetGroupArn"]
    with job.store.transaction() as tx:
        datasets = [d for d in tx.list_resources("dataset", group) if d.body["datasetType"] in _USER_DATASETS]
        versions = {d.arn: tx.current_dataset_version(d.arn) for d in datasets}
    deleted: set[str] = set()
    written: dict[str, tuple[str, int]] = {}
    try:
        for dataset in datasets:
            version = versions[dataset.arn]
            table = job.files.read(version.files, dataset.body["datasetType"]) if version else None
            if table is None:
                continue
            hit = pc.is_in(table.column("USER_ID"), value_set=users)
            if not pc.any(hit).as_py():
                continue
            deleted.update(pc.unique(table.column("USER_ID").filter(hit)).to_pylist())
            partial, final = job.files.new_file(dataset.arn)
            pq.write_table(table.filter(pc.invert(hit)), partial, compression="zstd")
            partial.replace(final)
            written[dataset.arn] = (job.files.relative(final), table.num_rows - pc.sum(hit).as_py())
        with job.store.transaction() as tx:
            job.owned(tx)
            if any(tx.current_dataset_version(arn) != versions[arn] for arn in written):
                return False
            for arn, (name, rows) in written.items():
                tx.publish_dataset_version(arn, [name], rows, job.arn)
                tx.drop_dataset_versions(arn, keep_latest=True)
            resource = tx.get_resource(job.arn)
            assert resource is not None
            job.finish(tx, COMPLETED, dict(resource.body, numDeleted=len(deleted)))
        written.clear()
        return True
    finally:
        for name, _rows in written.values():
            (job.files.root / name).unlink(missing_ok=True)
