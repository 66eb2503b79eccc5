"""SIGKILL the server in the middle of imports: after each restart the job is resolved and the dataset holds
exactly the old or the new data, never a mix."""

from __future__ import annotations

import random
import time
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv

from reelrank import synthetic
from tests.support.flows import interactions_group, run_import, unique, wait_for
from tests.support.servers import ReelrankServer

KILLS = 5


def exported_users(personalize: object, dataset_arn: str, folder: Path) -> set[str]:
    name = unique("export")
    arn = personalize.create_dataset_export_job(  # type: ignore[attr-defined]
        jobName=name, datasetArn=dataset_arn, ingestionMode="BULK", roleArn="arn:aws:iam::000000000000:role/x",
        jobOutput={"s3DataDestination": {"path": (folder / name).as_uri()}})["datasetExportJobArn"]
    job = wait_for(lambda: personalize.describe_dataset_export_job(  # type: ignore[attr-defined]
        datasetExportJobArn=arn)["datasetExportJob"])
    assert job["status"] == "ACTIVE", job.get("failureReason")
    table = pacsv.read_csv(folder / name / f"{name}_INTERACTIONS.csv", read_options=pacsv.ReadOptions(
        use_threads=True), convert_options=pacsv.ConvertOptions(include_columns=["USER_ID"]))
    return set(table.column("USER_ID").unique().to_pylist())


def describe_import(personalize: Any, arn: str) -> dict[str, Any]:
    return personalize.describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"]  # type: ignore[no-any-return]


def test_sigkill_during_imports_leaves_old_or_new_data(tmp_path: Path) -> None:
    imports = tmp_path / "imports"
    imports.mkdir()
    server = ReelrankServer(tmp_path / "data", imports).start()
    personalize = server.client()
    _, dataset_arn = interactions_group(personalize)
    generations = []
    for generation in range(KILLS + 1):
        path = imports / f"generation-{generation}.csv"
        synthetic.write_interactions_csv(path, 600_000, n_users=500, n_items=2000, seed=generation)
        table = pacsv.read_csv(path)
        users = table.column("USER_ID").to_pylist()
        renamed = table.set_column(0, "USER_ID", [[f"g{generation}-{user}" for user in users]])
        synthetic.write_csv(renamed, path)
        generations.append(path)
    assert run_import(personalize, dataset_arn, generations[0].as_uri())["status"] == "ACTIVE"
    current = 0
    rng = random.Random(42)
    try:
        for generation in range(1, KILLS + 1):
            job_arn = personalize.create_dataset_import_job(
                jobName=unique("doomed"), datasetArn=dataset_arn,
                dataSource={"dataLocation": generations[generation].as_uri()})["datasetImportJobArn"]
            time.sleep(rng.uniform(0.1, 1.5))
            server.kill()
            server.start()
            personalize = server.client()
            job = wait_for(partial(describe_import, personalize, job_arn))
            assert job["status"] in ("ACTIVE", "CREATE FAILED"), job
            prefixes = {user.split("-")[0] for user in exported_users(personalize, dataset_arn, imports)}
            expected = generation if job["status"] == "ACTIVE" else current
            assert prefixes == {f"g{expected}"}, f"dataset mixes or lost generations: {prefixes}"
            current = expected
        leftovers = [p for p in (tmp_path / "data" / "datasets").rglob("*.partial")]
        assert leftovers == []
    finally:
        server.stop()


def test_sigkill_during_a_batch_job_leaves_no_partial_output(tmp_path: Path) -> None:
    imports = tmp_path / "imports"
    imports.mkdir()
    server = ReelrankServer(tmp_path / "data", imports).start()
    try:
        personalize = server.client()
        group_arn, dataset_arn = interactions_group(personalize)
        catalogue = synthetic.generate(n_users=2000, n_items=300, n_interactions=30_000, seed=2)
        synthetic.write_csv(catalogue.interactions, imports / "interactions.csv")
        assert run_import(personalize, dataset_arn, (imports / "interactions.csv").as_uri())["status"] == "ACTIVE"
        solution = personalize.create_solution(name=unique("s"), datasetGroupArn=group_arn, performAutoTraining=False,
                                               recipeArn="arn:aws:personalize:::recipe/aws-sims")["solutionArn"]
        wait_for(lambda: personalize.describe_solution(solutionArn=solution)["solution"])
        version = personalize.create_solution_version(solutionArn=solution)["solutionVersionArn"]
        assert wait_for(lambda: personalize.describe_solution_version(
            solutionVersionArn=version)["solutionVersion"], timeout=180)["status"] == "ACTIVE"
        lines = [f'{{"itemId": "m{i % 300 + 1}"}}' for i in range(60_000)]
        (imports / "items.json").write_text("\n".join(lines))
        output = imports / "out"
        arn = personalize.create_batch_inference_job(
            jobName=unique("batch"), solutionVersionArn=version, roleArn="arn:aws:iam::000000000000:role/x",
            jobInput={"s3DataSource": {"path": (imports / "items.json").as_uri()}},
            jobOutput={"s3DataDestination": {"path": output.as_uri() + "/"}})["batchInferenceJobArn"]
        time.sleep(1.5)
        server.kill()
        assert not list(output.glob("*")), "output appeared before the job finished"
        server.start()
        personalize = server.client()
        job = wait_for(lambda: personalize.describe_batch_inference_job(
            batchInferenceJobArn=arn)["batchInferenceJob"], timeout=180)
        assert job["status"] in ("ACTIVE", "CREATE FAILED")
        written = sorted(path.name for path in output.glob("*")) if output.exists() else []
        if job["status"] == "ACTIVE":
            assert written == ["items.json.out"]
            assert len((output / "items.json.out").read_text().splitlines()) == len(lines)
        else:
            assert written == []
    finally:
        server.stop()
