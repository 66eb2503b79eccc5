"""Groups set up once through boto3 for the console's HTTP and browser tests (training is the slow part)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from reelrank import synthetic
from tests.console.support import write_catalogue
from tests.support.flows import RECIPE, interactions_group, run_import, trained_version, unique, wait_for
from tests.support.servers import ReelrankServer


@dataclass
class Deployed:
    group_arn: str
    interactions_arn: str
    items_arn: str
    solution_arn: str
    user_campaign: str
    sims_campaign: str
    user_version: str
    affinity_version: str


@dataclass
class VodGroup:
    """A VIDEO_ON_DEMAND dataset group with interactions and items imported (recommenders are made by the tests)."""

    group_arn: str
    interactions_arn: str
    items_arn: str


def _campaign(personalize: Any, version_arn: str) -> str:
    campaign_arn = personalize.create_campaign(name=unique("c"), solutionVersionArn=version_arn)["campaignArn"]
    assert wait_for(lambda: personalize.describe_campaign(campaignArn=campaign_arn)["campaign"])["status"] == "ACTIVE"
    return str(campaign_arn)


def _items(personalize: Any, group_arn: str, location: str, domain: str | None = None) -> str:
    extra = {"domain": domain} if domain else {}
    schema_arn = personalize.create_schema(name=unique("items"), schema=synthetic.ITEMS_SCHEMA, **extra)["schemaArn"]
    items_arn = personalize.create_dataset(name=unique("items"), schemaArn=schema_arn, datasetGroupArn=group_arn,
                                           datasetType="Items")["datasetArn"]
    wait_for(lambda: personalize.describe_dataset(datasetArn=items_arn)["dataset"])
    assert run_import(personalize, items_arn, location)["status"] == "ACTIVE"
    return str(items_arn)


@pytest.fixture(scope="session")
def deployed(server: ReelrankServer) -> Deployed:
    """A custom group: interactions and items imported, a user and a SIMS campaign deployed, and an ACTIVE
    aws-item-affinity solution version for batch segment jobs."""
    personalize = server.client()
    paths = write_catalogue(server.import_root / unique("console"))
    group_arn, interactions_arn = interactions_group(personalize)
    assert run_import(personalize, interactions_arn, paths["INTERACTIONS"].as_uri())["status"] == "ACTIVE"
    items_arn = _items(personalize, group_arn, paths["ITEMS"].as_uri())
    user_version = trained_version(personalize, group_arn, "aws-user-personalization")
    user_campaign = _campaign(personalize, user_version)
    sims_campaign = _campaign(personalize, trained_version(personalize, group_arn, "aws-sims"))
    affinity_version = trained_version(personalize, group_arn, "aws-item-affinity")
    solution_arn = user_version.rsplit("/", 1)[0]
    return Deployed(group_arn, interactions_arn, items_arn, solution_arn, user_campaign, sims_campaign, user_version,
                    affinity_version)


@pytest.fixture(scope="session")
def vod_group(server: ReelrankServer) -> VodGroup:
    personalize = server.client()
    paths = write_catalogue(server.import_root / unique("vod"), seed=5)
    domain = "VIDEO_ON_DEMAND"
    group_arn = personalize.create_dataset_group(name=unique("vod"), domain=domain)["datasetGroupArn"]
    wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=group_arn)["datasetGroup"])
    schema_arn = personalize.create_schema(name=unique("vod-interactions"), schema=synthetic.INTERACTIONS_SCHEMA,
                                           domain=domain)["schemaArn"]
    interactions_arn = personalize.create_dataset(name=unique("interactions"), schemaArn=schema_arn,
                                                  datasetGroupArn=group_arn, datasetType="Interactions")["datasetArn"]
    wait_for(lambda: personalize.describe_dataset(datasetArn=interactions_arn)["dataset"])
    assert run_import(personalize, interactions_arn, paths["INTERACTIONS"].as_uri())["status"] == "ACTIVE"
    items_arn = _items(personalize, group_arn, paths["ITEMS"].as_uri(), domain)
    return VodGroup(group_arn, interactions_arn, items_arn)


__all__ = ["RECIPE", "Deployed", "VodGroup"]
