"""Block answers of batch inference against the runtime's own answers, line for line (Runtime.recommend / rank on
in-memory histories and catalogues): ties, unknown users, filters of every kind, exploration, numResults."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from reelrank.config import Settings
from reelrank.filters import ItemTable, compile_filter
from reelrank.jobs import batch_scoring
from reelrank.jobs.batch_scoring import BatchAnswerer, answer, blocks, parse
from reelrank.recipes.ease import RecencyEASE
from reelrank.recipes.popularity import Popularity
from reelrank.recipes.registry import spec_for
from reelrank.service.context import Context
from reelrank.service.runtime import Runtime, Target
from reelrank.serving.catalogs import EMPTY, Catalog
from reelrank.serving.deployments import Deployment
from reelrank.serving.exploration import Exploration
from reelrank.serving.histories import IndexedHistory, index_history

GROUP = "arn:aws:personalize:us-east-1:000000000000:dataset-group/g"
FILTERS = {
    "genre": 'EXCLUDE ItemID WHERE Items.GENRE IN ("g1")',
    "watched": 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("watch")',
    "nothing": 'INCLUDE ItemID WHERE Items.GENRE IN ("none")',
    "placeholder": "INCLUDE ItemID WHERE Items.GENRE IN ($G)",
}
N_ITEMS = 60


class Histories:
    def __init__(self, events: dict[str, list[tuple[str, str]]]) -> None:
        self.events = events

    def users(self, _group: str) -> list[str]:
        return sorted(self.events)

    def of(self, _group: str, user: str) -> list[str]:
        return [item for item, _ in self.events.get(user, [])]

    def events_of(self, _group: str, user: str) -> list[tuple[str, str]]:
        return list(self.events.get(user, []))

    def indexed(self, _group: str, user: str, _model: str, index: dict[str, int]) -> IndexedHistory:
        events = self.events.get(user, [])
        return index_history([item for item, _ in events], [kind for _, kind in events], index)

    def items_with_types(self, _group: str, user: str, types: tuple[str, ...]) -> list[str]:
        return [item for item, kind in self.events.get(user, []) if kind in types]


class Catalogs:
    def __init__(self, catalog: Catalog, table: ItemTable) -> None:
        self.catalog, self.table = catalog, table

    def of(self, _group: str) -> Catalog:
        return self.catalog

    def item_table(self, _group: str, _key: str, _ids: np.ndarray) -> ItemTable:
        return self.table


def setup(model: Any, recipe: str, exploration: Exploration | None, cold: bool,
          seed: int = 0) -> tuple[Runtime, Target, list[str]]:
    rng = np.random.default_rng(seed)
    item_ids = np.array([f"i{k}" for k in range(N_ITEMS)])
    users = [f"u{k}" for k in range(200)]
    events = {user: [(f"i{int(i)}", "watch" if rng.random() < 0.3 else "click")
                     for i in rng.integers(0, N_ITEMS, int(rng.integers(0, 40)))] for user in users}
    events["u0"] = [("i1", "click")] * 3  # the same history as u1: equal scores
    events["u1"] = [("i1", "click")] * 3
    events["u2"] = [("ghost", "click")]  # only items the model does not know: no evidence
    events["u3"] = [(f"i{k}", "watch") for k in range(N_ITEMS)]  # the "watched" filter hides everything
    ctx = Context(Settings(data_dir=Path("/nonexistent")), None, None)  # type: ignore[arg-type]
    ctx.__dict__["histories"] = Histories(events)
    genres = np.array([f"g{k % 3}" for k in range(N_ITEMS)])
    ctx.__dict__["catalogs"] = Catalogs(
        Catalog([*item_ids.tolist(), "new1", "new2"], [frozenset({f"GENRE={g}"}) for g in genres] +
                [frozenset({"GENRE=g1"}), frozenset({"GENRE=g2"})], np.zeros(N_ITEMS + 2, dtype=np.int64),
                {item: k for k, item in enumerate([*item_ids.tolist(), "new1", "new2"])}) if cold else EMPTY,
        ItemTable(item_ids, {"GENRE": genres}))
    for name, expression in FILTERS.items():
        ctx.resolved[name] = (time.monotonic() + 3600, compile_filter(expression))
    spec = spec_for(f"arn:aws:personalize:::recipe/{recipe}")
    assert spec is not None
    popular = np.argsort(-rng.random(N_ITEMS), kind="stable")
    deployment = Deployment("model", model, item_ids, {item: k for k, item in enumerate(item_ids.tolist())}, spec,
                            popular)
    target = Target(deployment, GROUP, False, exploration, False)
    lines = [*users, *users[:20], "stranger", "another stranger"]
    return Runtime(ctx), target, lines


def ease(ties: bool, seed: int = 0) -> RecencyEASE:
    rng = np.random.default_rng(seed)
    model = RecencyEASE()
    weights = rng.integers(0, 3, (N_ITEMS, N_ITEMS)) if ties else rng.normal(size=(N_ITEMS, N_ITEMS))
    model.weights = np.ascontiguousarray(weights, dtype=np.float32)
    return model


def compare(runtime: Runtime, target: Target, users: list[str], body: dict[str, Any],
            extra: list[bytes] = ()) -> list[dict[str, Any]]:  # type: ignore[assignment]
    raw = [orjson.dumps({"userId": user}) for user in users] + list(extra)
    expected = []
    for line in raw:
        request = parse(line)
        assert isinstance(request, dict)
        expected.append(orjson.dumps(answer(runtime, target, request, body)))
    histories = runtime.ctx.__dict__["histories"]
    for indexed in (False, True):
        answerer = BatchAnswerer(runtime, target, body)
        answerer.warm(index_histories=indexed)
        runtime.ctx.__dict__["histories"] = histories  # freed by warm when unused: a real Context builds it again
        got = b"".join(answerer.answer_block(block).data for block in blocks(iter(line + b"\n" for line in raw), 64))
        assert got.splitlines() == expected
    return [orjson.loads(line) for line in expected]


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("filter_name", [None, "genre", "watched", "nothing", "placeholder"])
def test_user_lines_answer_as_the_runtime(ties: bool, filter_name: str | None) -> None:
    runtime, target, users = setup(ease(ties), "aws-user-personalization", None, cold=False)
    body: dict[str, Any] = {"numResults": 7, **({"filterArn": filter_name} if filter_name else {})}
    records = compare(runtime, target, users, body)
    if filter_name in (None, "genre", "watched"):
        assert sum(r["error"] is None and "scores" in r["output"] for r in records) > 150
        assert any(r["error"] is None and "scores" not in r["output"] for r in records)  # popularity fallback
    if filter_name == "watched":
        assert records[3] == {"input": {"userId": "u3"}, "output": {"recommendedItems": []}, "error": None}
    if filter_name in ("nothing", "placeholder"):
        assert all(r["error"] is not None or "scores" not in r["output"] for r in records)


@pytest.mark.parametrize("count", [1, 25, N_ITEMS, 200])
def test_number_of_results(count: int) -> None:
    runtime, target, users = setup(ease(True, seed=3), "aws-user-personalization", None, cold=False, seed=3)
    compare(runtime, target, users, {"numResults": count, "filterArn": "watched"})
    records = compare(runtime, target, users, {"numResults": count})
    assert max(len(r["output"]["recommendedItems"]) for r in records) == min(count, N_ITEMS)


def test_exploration_of_cold_items() -> None:
    runtime, target, users = setup(ease(False), "aws-user-personalization", Exploration(0.3, 30.0), cold=True)
    records = compare(runtime, target, users, {"numResults": 10})
    assert all({"new1", "new2"} <= set(r["output"]["recommendedItems"]) for r in records)


def test_popularity_count_and_other_lines() -> None:
    model = Popularity()
    model.counts = np.random.default_rng(1).integers(0, 5, N_ITEMS).astype(np.float32)
    runtime, target, users = setup(model, "aws-popularity-count", None, cold=False)
    extra = [b'{"userId": "u5", "filterValues": {"G": "\\"g1\\""}}', b'{"itemId": "i1"}', b'{"userId": 5}',
             b'{"userId": ""}', b'{"userId": "u6", "note": "kept in the echo"}']
    records = compare(runtime, target, users, {"numResults": 5, "filterArn": "placeholder"}, extra)
    assert records[-1]["input"] == {"userId": "u6", "note": "kept in the echo"}
    compare(runtime, target, users, {"numResults": 5}, extra)


def test_blank_and_bad_lines() -> None:
    runtime, target, _ = setup(ease(False), "aws-user-personalization", None, cold=False)
    answerer = BatchAnswerer(runtime, target, {"numResults": 3})
    result = answerer.answer_block(b'{"userId": "u1"}\n\n  \nnot json\n[1]\n{"userId": "u2"}\n')
    lines = [orjson.loads(line) for line in result.data.splitlines()]
    assert (result.lines, result.failed) == (4, 2)
    assert [line["input"] for line in lines] == [{"userId": "u1"}, "not json", [1], {"userId": "u2"}]
    assert lines[1]["error"].startswith("Invalid JSON") and lines[2]["error"] == "Each line must be a JSON object."


def test_lines_split_as_a_file_reads_them() -> None:
    runtime, target, _ = setup(ease(False), "aws-user-personalization", None, cold=False)
    answerer = BatchAnswerer(runtime, target, {"numResults": 3})
    result = answerer.answer_block(b'{"userId": "u1"}\r\n{"userId": "u2\r"}\n')
    lines = [orjson.loads(line) for line in result.data.splitlines()]
    assert (result.lines, result.failed) == (2, 1)  # a lone carriage return does not end a line
    assert lines[0]["input"] == {"userId": "u1"} and lines[0]["error"] is None


def test_blocks_end_every_line() -> None:
    source = iter([b"a\n", b"b\n", b"c"])
    assert list(blocks(source, 2)) == [b"a\nb\n", b"c\n"]


def test_users_scored_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_scoring, "CHUNK_CELLS", 7 * N_ITEMS)  # 7 users at a time
    runtime, target, users = setup(ease(True), "aws-user-personalization", None, cold=False)
    compare(runtime, target, users, {"numResults": 9, "filterArn": "watched"})
    compare(runtime, target, users, {"numResults": 9})
