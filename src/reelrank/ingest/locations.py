"""Data locations: `s3://bucket/key` through boto3 (honouring AWS_ENDPOINT_URL_S3) or `file://` paths
inside the configured roots. A location ending in `/` means every file under that prefix."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from reelrank.config import Settings
from reelrank.errors import InvalidInputException


@dataclass(frozen=True)
class Location:
    uri: str
    scheme: str
    bucket: str
    key: str
    """For file:// locations, `key` is the resolved absolute path and `bucket` is empty."""

    @property
    def is_folder(self) -> bool:
        return self.uri.endswith("/")


def parse_location(uri: str, settings: Settings) -> Location:
    parts = urlsplit(uri)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise InvalidInputException(f"Invalid Data location. {uri} names no bucket.")
        return Location(uri, "s3", parts.netloc, parts.path.lstrip("/"))
    if parts.scheme == "file":
        path = Path(unquote(parts.path)).resolve()
        roots = settings.allowed_roots()
        if not any(path == root or root in path.parents for root in roots):
            allowed = ", ".join(str(root) for root in roots)
            raise InvalidInputException(
                f"Invalid Data location. {path} is outside the allowed import roots ({allowed}); "
                "start the server with --import-root to allow another folder.")
        return Location(uri, "file", "", str(path) + ("/" if uri.endswith("/") else ""))
    raise InvalidInputException(f"Invalid Data location. {uri} is neither an s3:// nor a file:// location.")


def s3_client(settings: Settings) -> Any:
    import boto3  # only s3:// locations need it; keeps job processes quick to start

    return boto3.client("s3", endpoint_url=settings.s3_endpoint_url)


def fetch(location: Location, settings: Settings, workdir: Path) -> list[Path]:
    """Local paths of every input file at `location`, downloading s3:// objects into `workdir`."""
    if location.scheme == "file":
        path = Path(location.key)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if location.is_folder else [path]
        if not files or not all(f.is_file() for f in files):
            raise FileNotFoundError(f"Invalid Data location. No input file at {location.uri}.")
        return files
    client = s3_client(settings)
    keys = _list_keys(client, location) if location.is_folder else [location.key]
    if not keys:
        raise FileNotFoundError(f"Invalid Data location. No input file at {location.uri}.")
    workdir.mkdir(parents=True, exist_ok=True)
    files = []
    for number, key in enumerate(keys):
        target = workdir / f"{number:05d}" / key.rsplit("/", 1)[-1]
        target.parent.mkdir()
        try:
            client.download_file(location.bucket, key, str(target))
        except client.exceptions.ClientError as error:
            raise FileNotFoundError(f"Invalid Data location. Could not read s3://{location.bucket}/{key}: "
                                    f"{error}") from None
        files.append(target)
    return files


def _list_keys(client: Any, location: Location) -> list[str]:
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=location.bucket, Prefix=location.key):
        keys.extend(obj["Key"] for obj in page.get("Contents", []) if not obj["Key"].endswith("/"))
    return sorted(keys)


def store(local_file: Path, location: Location, name: str, settings: Settings) -> str:
    """Copy `local_file` to `location` (a folder) as `name`; returns the URI written."""
    if location.scheme == "file":
        folder = Path(location.key)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        partial = target.with_name(f".{name}.partial")
        shutil.copyfile(local_file, partial)
        partial.replace(target)
        return target.as_uri()
    key = f"{location.key.rstrip('/')}/{name}".lstrip("/")
    s3_client(settings).upload_file(str(local_file), location.bucket, key)
    return f"s3://{location.bucket}/{key}"
