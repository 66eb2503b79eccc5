"""Helpers shared by the data jobs: their dataset and schema, and a scratch folder for downloads."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reelrank.errors import InvalidInputException
from reelrank.ingest.avro import AvroSchema, parse_schema
from reelrank.ingest.locations import Location, fetch, parse_location
from reelrank.store.metadata import Resource

from .context import JobContext, JobFailed


def dataset_and_schema(job: JobContext, dataset_arn: str) -> tuple[Resource, AvroSchema]:
    with job.store.transaction() as tx:
        dataset = tx.get_resource(dataset_arn)
        schema = tx.get_resource(dataset.body["schemaArn"]) if dataset else None
    if dataset is None or schema is None:
        raise JobFailed(f"The dataset {dataset_arn} or its schema no longer exists.")
    return dataset, parse_schema(schema.body["schema"])


def active_version(job: JobContext, arn: str) -> Resource:
    """The ACTIVE solution version a batch job reads its model from."""
    with job.store.reading() as tx:
        version = tx.get_resource(arn)
    if version is None or version.status != "ACTIVE":
        raise JobFailed(f"The solution version {arn} is not ACTIVE.")
    return version


def location(job: JobContext, uri: str) -> Location:
    try:
        return parse_location(uri, job.settings)
    except InvalidInputException as error:
        raise JobFailed(error.message) from None


@contextmanager
def scratch(job: JobContext) -> Iterator[Path]:
    folder = job.settings.data_dir / "tmp" / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def input_files(job: JobContext, where: Location, folder: Path) -> list[Path]:
    try:
        return fetch(where, job.settings, folder)
    except FileNotFoundError as error:
        raise JobFailed(str(error)) from None
