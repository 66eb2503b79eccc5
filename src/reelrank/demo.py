"""The demo: a generated movie catalogue, or a MovieLens folder the user has, loaded into a running server through
the public API (boto3), then trained, deployed and asked for recommendations."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from reelrank import movielens, synthetic

GROUP_NAME = "movies-demo"
DOMAIN = "VIDEO_ON_DEMAND"
_SCHEMAS = {"INTERACTIONS": synthetic.INTERACTIONS_SCHEMA, "ITEMS": synthetic.ITEMS_SCHEMA,
            "USERS": synthetic.USERS_SCHEMA}
_FINAL = ("ACTIVE", "CREATE FAILED")


@dataclass(frozen=True)
class DemoSizes:
    users: int = 2000
    items: int = 1000
    interactions: int = 100_000
    seed: int = 0


@dataclass(frozen=True)
class DemoResult:
    dataset_group_arn: str
    datasets: dict[str, str]
    rows: dict[str, int]
    reused: bool


def personalize_client(endpoint: str, access_key: str, secret_key: str, region: str = "us-east-1") -> Any:
    return boto3.client("personalize", endpoint_url=endpoint, region_name=region, aws_access_key_id=access_key,
                        aws_secret_access_key=secret_key)


def _wait(describe: Callable[[], dict[str, Any]], what: str, timeout: float = 600.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (result := describe())["status"] not in _FINAL:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not finish within {timeout:.0f} s")
        time.sleep(0.25)
    if result["status"] != "ACTIVE":
        raise RuntimeError(f"{what} failed: {result.get('failureReason')}")
    return result


def _describer(call: Callable[..., dict[str, Any]], key: str, **params: str) -> Callable[[], dict[str, Any]]:
    return lambda: call(**params)[key]


def _existing_group(personalize: Any, name: str = GROUP_NAME) -> str | None:
    pages = personalize.get_paginator("list_dataset_groups").paginate()
    return next((group["datasetGroupArn"] for page in pages for group in page["datasetGroups"]
                 if group["name"] == name), None)


def _loaded(personalize: Any, group_arn: str, dataset_types: Iterable[str]) -> dict[str, str] | None:
    """The group's datasets when each of `dataset_types` has one with an ACTIVE import, else None."""
    listed = {d["datasetType"].upper(): d["datasetArn"] for d in personalize.list_datasets(
        datasetGroupArn=group_arn)["datasets"]}
    for dataset_type in dataset_types:
        if dataset_type not in listed or not _imported(personalize, listed[dataset_type]):
            return None
    return listed


def _imported(personalize: Any, dataset_arn: str) -> bool:
    pages = personalize.get_paginator("list_dataset_import_jobs").paginate(datasetArn=dataset_arn)
    return any(job["status"] == "ACTIVE" for page in pages for job in page["datasetImportJobs"])


def _reuse(personalize: Any, name: str, dataset_types: Iterable[str],
           report: Callable[[str], None]) -> DemoResult | None:
    """The result of an earlier load of dataset group `name`, when that load completed."""
    existing = _existing_group(personalize, name)
    datasets = None if existing is None else _loaded(personalize, existing, dataset_types)
    if existing is None or datasets is None:
        return None
    report(f"Reusing the dataset group {existing}")
    return DemoResult(existing, datasets, {}, reused=True)


def load_catalogue(personalize: Any, import_folder: Path, sizes: DemoSizes,
                   report: Callable[[str], None] = print) -> DemoResult:
    """Create a VIDEO_ON_DEMAND dataset group with users, items and interactions, imported from CSV files."""
    reused = _reuse(personalize, GROUP_NAME, _SCHEMAS, report)
    if reused is not None:
        return reused
    report(f"Generating a catalogue: {sizes.users} users, {sizes.items} movies, {sizes.interactions} interactions")
    catalogue = synthetic.generate(sizes.users, sizes.items, sizes.interactions, sizes.seed)
    import_folder.mkdir(parents=True, exist_ok=True)
    files = synthetic.write_catalogue(catalogue, import_folder)
    rows = {name: table.num_rows for name, table in catalogue.tables().items()}
    return import_files(personalize, GROUP_NAME, _SCHEMAS, files, rows, report)


def movielens_group_name(folder: Path) -> str:
    """`movielens-ml-latest-small` for a folder named ml-latest-small: one dataset group per MovieLens folder."""
    slug = re.sub(r"[^a-zA-Z0-9_-]+", "-", folder.resolve().name).strip("-_") or "data"
    return f"movielens-{slug}"[:30].rstrip("-_")


def load_movielens(personalize: Any, folder: Path, import_folder: Path,
                   report: Callable[[str], None] = print) -> DemoResult:
    """Convert a MovieLens folder into Personalize CSVs under `import_folder` and import them into a
    VIDEO_ON_DEMAND dataset group named after the folder (reused when an earlier load completed)."""
    name = movielens_group_name(folder)
    reused = _reuse(personalize, name, ("INTERACTIONS", "ITEMS"), report)
    if reused is not None:
        return reused
    report(f"Converting the MovieLens folder {folder} ({movielens.layout(folder)})")
    converted = movielens.convert(folder, import_folder / name)
    report(", ".join(f"{rows} {kind.lower()}" for kind, rows in converted.rows.items()) + " converted into "
           f"{import_folder / name}")
    schemas = {kind: movielens.SCHEMAS[kind] for kind in converted.files}
    return import_files(personalize, name, schemas, converted.files, converted.rows, report)


def import_files(personalize: Any, group_name: str, schemas: dict[str, str], files: dict[str, Path],
                 rows: dict[str, int], report: Callable[[str], None] = print) -> DemoResult:
    """A VIDEO_ON_DEMAND dataset group `group_name` with one dataset per schema, each imported from its CSV file.

    What an interrupted earlier run left (the group, schemas, datasets, finished imports) is reused."""
    group_arn = _existing_group(personalize, group_name) or personalize.create_dataset_group(
        name=group_name, domain=DOMAIN)["datasetGroupArn"]
    _wait(_describer(personalize.describe_dataset_group, "datasetGroup", datasetGroupArn=group_arn), "dataset group")
    present = {d["datasetType"].upper(): d["datasetArn"] for d in personalize.list_datasets(
        datasetGroupArn=group_arn)["datasets"]}
    datasets: dict[str, str] = {}
    jobs: dict[str, str] = {}
    for dataset_type, schema in schemas.items():
        name = f"{group_name}-{dataset_type.lower()}"
        arn = present.get(dataset_type)
        if arn is None:
            schema_arn = _find(personalize.get_paginator("list_schemas").paginate(), "schemas", name, "schemaArn")
            if schema_arn is None:
                schema_arn = personalize.create_schema(name=name, schema=schema, domain=DOMAIN)["schemaArn"]
            arn = personalize.create_dataset(name=name, schemaArn=schema_arn, datasetGroupArn=group_arn,
                                             datasetType=dataset_type)["datasetArn"]
        _wait(_describer(personalize.describe_dataset, "dataset", datasetArn=arn), f"dataset {name}")
        datasets[dataset_type] = arn
        if _imported(personalize, arn):
            continue
        jobs[dataset_type] = personalize.create_dataset_import_job(
            jobName=f"{name}-{int(time.time())}", datasetArn=arn, importMode="FULL",
            dataSource={"dataLocation": files[dataset_type].resolve().as_uri()})["datasetImportJobArn"]
        report(f"Importing {files[dataset_type].name} into {arn}")
    for dataset_type, job_arn in jobs.items():
        _wait(_describer(personalize.describe_dataset_import_job, "datasetImportJob", datasetImportJobArn=job_arn),
              f"{dataset_type} import")
    return DemoResult(group_arn, datasets, rows, reused=False)


@dataclass(frozen=True)
class Deployed:
    solutions: dict[str, str]
    """recipe name → ACTIVE solution version ARN"""
    campaign_arn: str
    recommender_arn: str
    metrics: dict[str, dict[str, float]]
    user: str = "u1"
    """the user the demo sent events for and shows recommendations to"""


DEMO_RECIPES = ("aws-user-personalization", "aws-sims", "aws-popularity-count")


def deploy(personalize: Any, events: Any, group_arn: str, report: Callable[[str], None] = print, *,
           prefix: str = GROUP_NAME, user: str = "u1", watched: Iterable[str] = ("m1", "m2", "m3")) -> Deployed:
    """Train User-Personalization, SIMS and Popularity-Count, deploy a campaign and a VOD recommender, and send
    Watch events of `watched` for `user`. Resources are named after `prefix` and reused when they exist."""
    versions: dict[str, str] = {}
    for recipe in DEMO_RECIPES:
        name = f"{prefix}-{recipe.removeprefix('aws-')}"
        arn = _find(personalize.get_paginator("list_solutions").paginate(datasetGroupArn=group_arn), "solutions",
                    name, "solutionArn")
        if arn is None:
            arn = personalize.create_solution(name=name, datasetGroupArn=group_arn, performAutoTraining=False,
                                              recipeArn=f"arn:aws:personalize:::recipe/{recipe}")["solutionArn"]
            _wait(_describer(personalize.describe_solution, "solution", solutionArn=arn), f"solution {name}")
        latest = personalize.describe_solution(solutionArn=arn)["solution"].get("latestSolutionVersion")
        if latest is None or latest["status"] != "ACTIVE":
            report(f"Training {recipe}")
            version = personalize.create_solution_version(solutionArn=arn)["solutionVersionArn"]
            _wait(_describer(personalize.describe_solution_version, "solutionVersion", solutionVersionArn=version),
                  f"training {recipe}")
            latest = {"solutionVersionArn": version}
        versions[recipe] = latest["solutionVersionArn"]
    metrics = {recipe: personalize.get_solution_metrics(solutionVersionArn=arn)["metrics"]
               for recipe, arn in versions.items()}
    campaign = f"{prefix}-campaign"
    campaign_arn = _find(personalize.get_paginator("list_campaigns").paginate(), "campaigns", campaign, "campaignArn")
    if campaign_arn is None:
        campaign_arn = personalize.create_campaign(
            name=campaign, solutionVersionArn=versions[DEMO_RECIPES[0]], minProvisionedTPS=1,
            campaignConfig={"enableMetadataWithRecommendations": True})["campaignArn"]
        _wait(_describer(personalize.describe_campaign, "campaign", campaignArn=campaign_arn), "campaign")
    recommender = f"{prefix}-top-picks"
    recommender_arn = _find(personalize.get_paginator("list_recommenders").paginate(datasetGroupArn=group_arn),
                            "recommenders", recommender, "recommenderArn")
    if recommender_arn is None:
        report("Training the VIDEO_ON_DEMAND top-picks recommender")
        recommender_arn = personalize.create_recommender(
            name=recommender, datasetGroupArn=group_arn,
            recipeArn="arn:aws:personalize:::recipe/aws-vod-top-picks",
            recommenderConfig={"enableMetadataWithRecommendations": True})["recommenderArn"]
        _wait(_describer(personalize.describe_recommender, "recommender", recommenderArn=recommender_arn),
              "recommender")
    trackers = personalize.list_event_trackers(datasetGroupArn=group_arn)["eventTrackers"]
    tracker_arn = trackers[0]["eventTrackerArn"] if trackers else personalize.create_event_tracker(
        name=f"{prefix}-tracker", datasetGroupArn=group_arn)["eventTrackerArn"]
    tracker = _wait(_describer(personalize.describe_event_tracker, "eventTracker", eventTrackerArn=tracker_arn),
                    "event tracker")
    items = list(watched)
    events.put_events(trackingId=tracker["trackingId"], userId=user, sessionId="demo-session", eventList=[
        {"eventType": "Watch", "itemId": item, "sentAt": time.time(), "eventValue": 1.0} for item in items])
    report(f"Sent {len(items)} Watch events for user {user}")
    return Deployed(versions, campaign_arn, recommender_arn, metrics, user)


def _find(pages: Any, key: str, name: str, arn_key: str) -> str | None:
    return next((entry[arn_key] for page in pages for entry in page[key] if entry["name"] == name), None)
