"""Next-Best-Action through boto3: action datasets, PutActionInteractions, GetActionRecommendations."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.flows import run_import, unique, wait_for
from tests.support.servers import ReelrankServer

ACTIONS_SCHEMA = json.dumps({"type": "record", "name": "Actions", "namespace": "com.amazonaws.personalize.schema",
                             "fields": [{"name": "ACTION_ID", "type": "string"},
                                        {"name": "VALUE", "type": ["null", "int"]},
                                        {"name": "EXPIRATION_TIMESTAMP", "type": ["null", "long"]},
                                        {"name": "REPEAT_FREQUENCY", "type": ["null", "int"]}],
                             "version": "1.0"})
ACTION_INTERACTIONS_SCHEMA = json.dumps({
    "type": "record", "name": "ActionInteractions", "namespace": "com.amazonaws.personalize.schema",
    "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ACTION_ID", "type": "string"},
               {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": "string"}],
    "version": "1.0"})


def dataset(personalize: Any, group: str, kind: str, schema: str) -> dict[str, Any]:
    schema_arn = personalize.create_schema(name=unique(kind), schema=schema)["schemaArn"]
    arn = personalize.create_dataset(name=unique(kind), schemaArn=schema_arn, datasetGroupArn=group,
                                     datasetType=kind)["datasetArn"]
    return wait_for(lambda: personalize.describe_dataset(datasetArn=arn)["dataset"])


def test_next_best_action(server: ReelrankServer, import_root: Path) -> None:
    personalize = server.client()
    group = personalize.create_dataset_group(name=unique("actions"))["datasetGroupArn"]
    wait_for(lambda: personalize.describe_dataset_group(datasetGroupArn=group)["datasetGroup"])
    actions = dataset(personalize, group, "ACTIONS", ACTIONS_SCHEMA)
    interactions = dataset(personalize, group, "ACTION_INTERACTIONS", ACTION_INTERACTIONS_SCHEMA)
    rates = {f"a{i}": (i + 1) / 21 for i in range(20)}
    rng = random.Random(0)
    lines = ["USER_ID,ACTION_ID,TIMESTAMP,EVENT_TYPE"]
    for user in range(200):
        for action, rate in rates.items():
            lines.append(f"u{user},{action},{1_700_000_000 + user},{'TAKEN' if rng.random() < rate else 'NOT_TAKEN'}")
    (import_root / "action-interactions.csv").write_text("\n".join(lines) + "\n")
    expired = "a19"
    repeated = "a18"  # taken by most users long ago; after a new TAKEN it rests for 30 days
    catalogue = ["ACTION_ID,VALUE,EXPIRATION_TIMESTAMP,REPEAT_FREQUENCY"] + [
        f"{a},{i},{1_000 if a == expired else ''},{30 if a == repeated else ''}" for i, a in enumerate(rates)]
    (import_root / "actions.csv").write_text("\n".join(catalogue) + "\n")
    for arn, name in ((interactions["datasetArn"], "action-interactions.csv"), (actions["datasetArn"], "actions.csv")):
        assert run_import(personalize, arn, (import_root / name).as_uri())["status"] == "ACTIVE"

    solution = personalize.create_solution(name=unique("nba"), datasetGroupArn=group, performAutoTraining=False,
                                           recipeArn="arn:aws:personalize:::recipe/aws-next-best-action")
    wait_for(lambda: personalize.describe_solution(solutionArn=solution["solutionArn"])["solution"])
    version = personalize.create_solution_version(solutionArn=solution["solutionArn"])["solutionVersionArn"]
    assert wait_for(lambda: personalize.describe_solution_version(solutionVersionArn=version)["solutionVersion"],
                    timeout=180)["status"] == "ACTIVE"
    campaign = personalize.create_campaign(name=unique("nba"), solutionVersionArn=version)["campaignArn"]
    wait_for(lambda: personalize.describe_campaign(campaignArn=campaign)["campaign"])

    runtime = server.client("personalize-runtime")
    listed = runtime.get_action_recommendations(campaignArn=campaign, userId="u1")["actionList"]
    assert len(listed) == 5 and expired not in {a["actionId"] for a in listed}
    assert [a["actionId"] for a in listed][:2] == ["a18", "a17"]
    assert all(0.0 <= a["score"] <= 1.0 for a in listed)

    assert interactions["trackingId"]
    server.client("personalize-events").put_action_interactions(
        trackingId=interactions["trackingId"],
        actionInteractions=[{"actionId": action, "userId": "u1", "sessionId": "s1", "timestamp": time.time(),
                             "eventType": "TAKEN"} for action in ("a3", repeated)])
    now_listed = [a["actionId"] for a in runtime.get_action_recommendations(campaignArn=campaign,
                                                                             userId="u1")["actionList"]]
    assert repeated not in now_listed and now_listed[0] == "a17"
    others = runtime.get_action_recommendations(campaignArn=campaign, userId="u2")["actionList"]
    assert others[0]["actionId"] == repeated
    with pytest.raises(runtime.exceptions.InvalidInputException):
        runtime.get_recommendations(campaignArn=campaign, userId="u1")
