"""The client commands (import, train, deploy, recommend, batch, status) run as a user would: the `reelrank`
executable against a real server on loopback."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reelrank import synthetic
from reelrank.cli import _filter_values, _rows_detail
from tests.support.flows import interactions_group, solution, unique, wait_for
from tests.support.servers import BIN, ReelrankServer, free_port

_SCRUBBED = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "REELRANK_ENDPOINT", "REELRANK_ACCESS_KEY",
             "REELRANK_SECRET_KEY", "COLUMNS")


def reelrank(url: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED}
    env.update(REELRANK_ENDPOINT=url, COLUMNS="200")
    return subprocess.run([str(BIN / "reelrank"), *args], capture_output=True, text=True, timeout=timeout,
                          check=False, env=env)


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.stdout.lstrip().startswith(("{", "[")), result.stdout + result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def personalize(server: ReelrankServer) -> Any:
    return server.client()


@pytest.fixture(scope="module")
def catalogue() -> synthetic.Catalogue:
    return synthetic.generate(n_users=150, n_items=90, n_interactions=3000, seed=5)


@pytest.fixture(scope="module")
def group(personalize: Any, import_root: Path, catalogue: synthetic.Catalogue) -> dict[str, str]:
    """A dataset group with empty INTERACTIONS and ITEMS datasets, and their CSVs under the import root."""
    name = unique("cli")
    group_arn, interactions_arn = interactions_group(personalize, name)
    schema = personalize.create_schema(name=unique("items"), schema=synthetic.ITEMS_SCHEMA)["schemaArn"]
    items_arn = personalize.create_dataset(name=unique("items"), schemaArn=schema, datasetGroupArn=group_arn,
                                           datasetType="Items")["datasetArn"]
    wait_for(lambda: personalize.describe_dataset(datasetArn=items_arn)["dataset"])
    folder = import_root / name
    folder.mkdir()
    synthetic.write_csv(catalogue.interactions, folder / "interactions.csv")
    synthetic.write_csv(catalogue.items, folder / "items.csv")
    return {"name": name, "arn": group_arn, "interactions": interactions_arn, "items": items_arn,
            "folder": str(folder)}


@pytest.fixture(scope="module")
def imported(server: ReelrankServer, group: dict[str, str]) -> dict[str, str]:
    """The group with both datasets imported by `reelrank import` (by group and type, then by dataset ARN)."""
    first = reelrank(server.url, "import", f"{group['folder']}/interactions.csv", "--dataset-group", group["name"],
                     "--type", "interactions")
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"Imported 3,000 rows into {group['interactions']}" in first.stdout
    second = reelrank(server.url, "import", f"{group['folder']}/items.csv", "--dataset-arn", group["items"], "--json")
    assert second.returncode == 0, second.stdout + second.stderr
    result = as_json(second)
    assert (result["status"], result["rows"], result["datasetArn"]) == ("ACTIVE", 90, group["items"])
    assert result["dataLocation"] == Path(group["folder"], "items.csv").as_uri()
    return group


@pytest.fixture(scope="module")
def deployed(server: ReelrankServer, personalize: Any, imported: dict[str, str]) -> dict[str, str]:
    """`reelrank train` then `reelrank deploy` of a User-Personalization solution."""
    solution_arn = solution(personalize, imported["arn"], "aws-user-personalization")
    trained = reelrank(server.url, "train", solution_arn, "--json")
    assert trained.returncode == 0, trained.stdout + trained.stderr
    version = as_json(trained)
    assert version["status"] == "ACTIVE" and version["metrics"]["normalized_discounted_cumulative_gain_at_10"] > 0
    first = reelrank(server.url, "deploy", solution_arn)
    assert first.returncode == 0, first.stdout + first.stderr
    campaign_arn = solution_arn.replace(":solution/", ":campaign/")
    assert f"Campaign created: {campaign_arn} (ACTIVE)" in first.stdout
    assert f"serving {version['arn']}" in first.stdout
    return {**imported, "solution": solution_arn, "version": version["arn"], "campaign": campaign_arn}


def test_import_reports_rows(imported: dict[str, str], personalize: Any) -> None:
    jobs = personalize.list_dataset_import_jobs(datasetArn=imported["interactions"])["datasetImportJobs"]
    assert [job["status"] for job in jobs] == ["ACTIVE"]
    assert jobs[0]["jobName"].startswith("import-interactions-")


def test_a_failed_import_shows_the_failure_reason(server: ReelrankServer, imported: dict[str, str]) -> None:
    result = reelrank(server.url, "import", f"{imported['folder']}/items.csv", "--dataset-group", imported["arn"],
                      "--type", "INTERACTIONS")
    assert result.returncode == 1
    assert "Import failed" in result.stdout and "missing the following columns" in result.stdout
    scripted = reelrank(server.url, "import", f"{imported['folder']}/items.csv", "--dataset-arn",
                        imported["interactions"], "--json")
    assert scripted.returncode == 1
    failed = as_json(scripted)
    assert failed["status"] == "CREATE FAILED" and "missing the following columns" in failed["failureReason"]


def test_import_errors_say_what_to_do(server: ReelrankServer, group: dict[str, str], tmp_path: Path) -> None:
    no_users = reelrank(server.url, "import", f"{group['folder']}/items.csv", "--dataset-group", group["name"],
                        "--type", "USERS")
    assert no_users.returncode == 1
    assert "has no USERS dataset (it has: INTERACTIONS, ITEMS)" in no_users.stderr
    assert "Hint: create the dataset first" in no_users.stderr
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("ITEM_ID,GENRES\n")
    refused = reelrank(server.url, "import", str(outside), "--dataset-arn", group["items"])
    assert refused.returncode == 1
    assert "outside the allowed import roots" in refused.stderr
    assert "Hint: put the file under the server's data directory" in refused.stderr
    unknown = reelrank(server.url, "import", str(outside), "--dataset-group", "no-such-group", "--type", "ITEMS")
    assert unknown.returncode == 1 and "There is no dataset group 'no-such-group'" in unknown.stderr
    assert "reelrank status" in unknown.stderr
    unsaid = reelrank(server.url, "import", str(outside))
    assert unsaid.returncode == 2 and "--dataset-arn ARN, or --dataset-group NAME --type" in unsaid.stderr


def test_a_server_that_is_not_there(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for args in (("status",), ("recommend", "arn:aws:personalize:us-east-1:000000000000:campaign/x", "--user", "1")):
        result = reelrank(url, *args, timeout=60)
        assert result.returncode == 1
        assert f"Cannot reach reelrank at {url}" in result.stderr
        assert f"Hint: is `reelrank serve` running at {url}?" in result.stderr


def test_a_wrong_key_pair_says_which_keys(server: ReelrankServer) -> None:
    result = reelrank(server.url, "status", "--secret-key", "not-the-secret")
    assert result.returncode == 1
    assert "Error: InvalidSignatureException" in result.stderr or "Error: UnrecognizedClient" in result.stderr
    assert "the key pair `reelrank serve` printed" in result.stderr


def test_deploy_again_leaves_the_campaign_or_updates_it(server: ReelrankServer, deployed: dict[str, str]) -> None:
    again = reelrank(server.url, "deploy", deployed["version"], "--json")
    assert again.returncode == 0, again.stderr
    assert as_json(again) == {"campaignArn": deployed["campaign"], "action": "unchanged",
                              "solutionVersionArn": deployed["version"], "status": "ACTIVE", "failureReason": None}
    changed = reelrank(server.url, "deploy", deployed["solution"], "--min-tps", "2", "--json")
    assert as_json(changed)["action"] == "updated"


def test_deploy_of_an_untrained_solution_says_to_train(server: ReelrankServer, personalize: Any,
                                                      imported: dict[str, str]) -> None:
    solution_arn = solution(personalize, imported["arn"], "aws-sims")
    result = reelrank(server.url, "deploy", solution_arn)
    assert result.returncode == 1
    assert "has no ACTIVE solution version" in result.stderr
    assert f"Hint: train one with `reelrank train {solution_arn}`" in result.stderr


def test_recommend_shows_items_scores_and_metadata(server: ReelrankServer, deployed: dict[str, str],
                                                   catalogue: synthetic.Catalogue) -> None:
    table = reelrank(server.url, "recommend", deployed["campaign"], "--user", "u1", "--num", "5",
                     "--metadata", "TITLE,GENRES")
    assert table.returncode == 0, table.stderr
    assert "Recommendations for user u1" in table.stdout
    header = next(line for line in table.stdout.splitlines() if "item" in line and "score" in line)
    assert "TITLE" in header and "GENRES" in header
    titles = set(catalogue.items.column("TITLE").to_pylist())
    rows = [line for line in table.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 5 and all(any(title in row for title in titles) for row in rows)
    scripted = reelrank(server.url, "recommend", deployed["campaign"], "--user", "u1", "--num", "3", "--json")
    response = as_json(scripted)
    assert len(response["itemList"]) == 3 and response["recommendationId"].startswith("RID-")
    assert all(set(item) == {"itemId", "score"} for item in response["itemList"])


def test_recommend_errors_name_the_fix(server: ReelrankServer, deployed: dict[str, str]) -> None:
    unknown = reelrank(server.url, "recommend", deployed["campaign"] + "-gone", "--user", "u1")
    assert unknown.returncode == 1
    assert "ResourceNotFoundException" in unknown.stderr
    assert "Hint: check the ARN; `reelrank status` lists the campaigns and recommenders." in unknown.stderr
    not_a_campaign = reelrank(server.url, "recommend", deployed["solution"], "--user", "u1")
    assert not_a_campaign.returncode == 1 and "neither a campaign nor a recommender ARN" in not_a_campaign.stderr
    bad_value = reelrank(server.url, "recommend", deployed["campaign"], "--filter-value", "GENRES")
    assert bad_value.returncode == 2 and "expected KEY=VALUE" in bad_value.stderr


def test_batch_answers_a_local_file(server: ReelrankServer, deployed: dict[str, str]) -> None:
    folder = Path(deployed["folder"])
    lines = [json.dumps({"userId": f"u{i}"}) for i in range(40)] + ["not json"]
    (folder / "users.jsonl").write_text("\n".join(lines) + "\n")
    result = reelrank(server.url, "batch", deployed["solution"], str(folder / "users.jsonl"), str(folder / "out"),
                      "--num", "4")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Batch done: 41 lines (1 failed) answered into {(folder / 'out').as_uri()}/" in result.stdout
    answers = [json.loads(line) for line in (folder / "out" / "users.jsonl.out").read_text().splitlines()]
    assert len(answers) == 41 and len(answers[0]["output"]["recommendedItems"]) == 4
    scripted = reelrank(server.url, "batch", deployed["version"], str(folder / "users.jsonl"),
                        str(folder / "out-json"), "--json")
    job = as_json(scripted)
    assert (job["status"], job["rows"], job["failedRows"], job["solutionVersionArn"]) == (
        "ACTIVE", 41, 1, deployed["version"])


def test_batch_errors_name_the_fix(server: ReelrankServer, deployed: dict[str, str]) -> None:
    folder = Path(deployed["folder"])
    same = reelrank(server.url, "batch", deployed["version"], str(folder), str(folder))
    assert same.returncode == 1 and "the output must differ from the input" in same.stderr
    missing = reelrank(server.url, "batch", deployed["version"], str(folder / "nothing.jsonl"), str(folder / "o"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_status_shows_the_tree_and_json(server: ReelrankServer, deployed: dict[str, str]) -> None:
    tree = reelrank(server.url, "status", "--dataset-group", deployed["name"])
    assert tree.returncode == 0, tree.stderr
    for text in (deployed["name"], "INTERACTIONS ACTIVE · last import", "aws-user-personalization",
                 "latest version ACTIVE · NDCG@10", deployed["campaign"], "running jobs: none"):
        assert text in tree.stdout
    state = as_json(reelrank(server.url, "status", "--json"))
    mine = next(g for g in state["datasetGroups"] if g["arn"] == deployed["arn"])
    assert {d["type"] for d in mine["datasets"]} == {"INTERACTIONS", "ITEMS"}
    assert all(d["status"] == "ACTIVE" and d["lastImport"]["name"].startswith("import-") for d in mine["datasets"])
    trained = next(s for s in mine["solutions"] if s["arn"] == deployed["solution"])
    assert trained["latestVersion"]["status"] == "ACTIVE" and trained["metric"]["value"] > 0
    assert [c["arn"] for c in trained["campaigns"]] == [deployed["campaign"]]
    unknown = reelrank(server.url, "status", "--dataset-group", "no-such-group")
    assert unknown.returncode == 1 and "Hint: see the dataset groups with `reelrank status`" in unknown.stderr


@pytest.fixture()
def held_server(tmp_path: Path) -> Iterator[ReelrankServer]:
    """A server whose heavy jobs stay queued (--workers 0), so they are seen running."""
    (tmp_path / "imports").mkdir()
    running = ReelrankServer(tmp_path / "data", tmp_path / "imports", ["--workers", "0"]).start()
    yield running
    running.stop()


def test_no_wait_returns_at_once_and_status_lists_the_running_job(held_server: ReelrankServer) -> None:
    personalize = held_server.client()
    group_arn, dataset_arn = interactions_group(personalize, "held")
    path = held_server.import_root / "interactions.csv"
    synthetic.write_csv(synthetic.generate(n_users=50, n_items=30, n_interactions=1200, seed=1).interactions, path)
    started = reelrank(held_server.url, "import", str(path), "--dataset-arn", dataset_arn, "--no-wait", "--json")
    assert started.returncode == 0, started.stderr
    job = as_json(started)
    assert job["status"] == "CREATE PENDING" and job["rows"] is None
    tree = reelrank(held_server.url, "status")
    assert "running jobs\n" in tree.stdout and "import import-interactions-" in tree.stdout
    assert job["datasetImportJobArn"] in tree.stdout
    state = as_json(reelrank(held_server.url, "status", "--json"))
    [running] = state["datasetGroups"][0]["runningJobs"]
    assert (running["kind"], running["arn"], running["status"]) == ("import", job["datasetImportJobArn"],
                                                                    "CREATE PENDING")
    assert group_arn == state["datasetGroups"][0]["arn"]


def test_rows_detail_and_filter_values() -> None:
    assert _rows_detail({"status": "IN PROGRESS", "rowsDone": 12000, "rowsPerSecond": 5300.4,
                         "etaSeconds": 64.2}) == "12,000 rows · 5,300 rows/s · ETA 0:01:04"
    assert _rows_detail({"status": "ACTIVE", "rowsDone": 41, "rowsPerSecond": None, "etaSeconds": 0}) == "41 rows"
    assert _rows_detail({"status": "IN PROGRESS", "stage": "scoring", "percent": 40.0}) == ""
    assert _filter_values(("GENRES=Comedy,Drama", 'TITLE="A, B"')) == {"GENRES": '"Comedy","Drama"',
                                                                        "TITLE": '"A, B"'}
