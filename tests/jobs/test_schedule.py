from __future__ import annotations

from pathlib import Path

from reelrank.jobs.schedule import FIRST_TRAINING_DELAY, due_solutions
from reelrank.store.metadata import MetadataStore


def store(tmp_path: Path) -> MetadataStore:
    metadata = MetadataStore(f"sqlite:///{tmp_path}/m.db")
    metadata.migrate()
    return metadata


def add_solution(metadata: MetadataStore, name: str, auto: bool, schedule: str = "rate(2 days)") -> str:
    arn = f"arn:aws:personalize:us-east-1:000000000000:solution/{name}"
    body = {"performAutoTraining": auto, "solutionConfig": {"autoTrainingConfig": {"schedulingExpression": schedule}}}
    with metadata.transaction() as tx:
        tx.insert_resource("solution", arn, name, None, "ACTIVE", body)
    return arn


def test_first_automatic_training_comes_an_hour_after_activation(tmp_path: Path) -> None:
    metadata = store(tmp_path)
    arn = add_solution(metadata, "auto", True)
    add_solution(metadata, "manual", False)
    with metadata.transaction() as tx:
        activated = tx.get_resource(arn).updated_at  # type: ignore[union-attr]
        assert due_solutions(tx, activated + FIRST_TRAINING_DELAY - 1) == []
        assert [s.arn for s in due_solutions(tx, activated + FIRST_TRAINING_DELAY)] == [arn]


def test_later_versions_follow_the_rate(tmp_path: Path) -> None:
    metadata = store(tmp_path)
    arn = add_solution(metadata, "auto", True, "rate(2 days)")
    with metadata.transaction() as tx:
        version = tx.insert_resource("solution-version", f"{arn}/abcd1234", "v", arn, "ACTIVE", {})
        assert due_solutions(tx, version.created_at + 2 * 86400 - 1) == []
        assert [s.arn for s in due_solutions(tx, version.created_at + 2 * 86400)] == [arn]
