from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pytest

from reelrank.recipes.artifacts import ARRAYS, MANIFEST, ArtifactError, load, save
from reelrank.recipes.base import IntArray, Interactions, Model, Progress
from reelrank.recipes.contextual import ContextLift


class Constant(Model):
    algorithm = "constant"
    defaults: ClassVar[Mapping[str, str]] = {"value": "1.0"}

    def fit(self, data: Interactions, progress: Progress | None = None) -> None:
        self.scores = np.arange(data.n_items, dtype=np.float32) * self.param_float("value")

    def score(self, history: IntArray, item: int | None = None) -> np.ndarray:
        return self.scores

    def arrays(self) -> dict[str, np.ndarray]:
        return {"scores": self.scores}

    @classmethod
    def from_arrays(cls, hyperparameters: Mapping[str, str], arrays: Mapping[str, np.ndarray]) -> Model:
        model = cls(hyperparameters)
        model.scores = arrays["scores"]
        return model


def fitted() -> Constant:
    model = Constant({"value": "2.0"})
    empty = np.zeros(0, dtype=np.int64)
    model.fit(Interactions(empty, empty, empty, np.zeros(0, dtype=np.float32), 0, 4))
    return model


def test_save_then_load_gives_the_same_model(tmp_path: Path) -> None:
    folder = save(fitted(), np.array(["a", "b", "c", "d"]), tmp_path / "v1", {"recipeArn": "r"})
    artifact = load(folder, {"constant": Constant})
    assert np.array_equal(artifact.model.score(np.zeros(0, dtype=np.int64)), fitted().scores)
    assert artifact.item_ids.tolist() == ["a", "b", "c", "d"]
    assert artifact.manifest["hyperparameters"] == {"value": "2.0"} and artifact.manifest["recipeArn"] == "r"
    assert not list(tmp_path.glob(".*partial"))


def test_the_context_lifts_are_saved_with_the_model(tmp_path: Path) -> None:
    table = pa.table({"ITEM_ID": ["a", "b"] * 100, "DEVICE": ["tv", "mobile"] * 100})
    context = ContextLift.fit(table, np.array([0, 1] * 100), 4, ["DEVICE"])
    assert context is not None
    folder = save(fitted(), np.array(["a", "b", "c", "d"]), tmp_path / "v1", None, None, context)
    artifact = load(folder, {"constant": Constant})
    assert artifact.context is not None and artifact.context.keys == context.keys
    assert np.array_equal(artifact.context.log_lift({"DEVICE": "tv"}), context.log_lift({"DEVICE": "tv"}))  # type: ignore[arg-type]
    assert load(save(fitted(), np.array(["a", "b", "c", "d"]), tmp_path / "v2"), {"constant": Constant}).context is None


def test_a_tampered_file_fails_its_checksum(tmp_path: Path) -> None:
    folder = save(fitted(), np.array(["a", "b", "c", "d"]), tmp_path / "v1")
    (folder / ARRAYS).write_bytes((folder / ARRAYS).read_bytes()[:-10])
    with pytest.raises(ArtifactError, match="does not match its checksum"):
        load(folder, {"constant": Constant})


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    model = fitted()
    model.scores = np.array([object()], dtype=object)
    with pytest.raises(ArtifactError, match="dtype object"):
        save(model, np.array(["a"]), tmp_path / "v1")


def test_unknown_algorithms_are_refused(tmp_path: Path) -> None:
    folder = save(fitted(), np.array(["a", "b", "c", "d"]), tmp_path / "v1")
    with pytest.raises(ArtifactError, match="unknown algorithm"):
        load(folder, {})


def test_arrays_are_mapped_from_the_file_read_only(tmp_path: Path) -> None:
    """Every process of a server maps the same pages instead of reading a copy of the model."""
    folder = save(fitted(), np.array(["a", "b", "c", "d"]), tmp_path / "v1")
    scores = load(folder, {"constant": Constant}).model.scores
    assert not scores.flags.writeable and not scores.flags.owndata
    assert scores.tolist() == [0.0, 2.0, 4.0, 6.0]


def test_compressed_and_empty_arrays_load_too(tmp_path: Path) -> None:
    folder = save(fitted(), np.array(["a", "b", "c", "d"]), tmp_path / "v1")
    path = folder / ARRAYS
    with np.load(path) as stored:
        arrays = {name: stored[name] for name in stored.files}
    np.savez_compressed(path, **{**arrays, "scores": np.zeros(0, dtype=np.float32)})
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"][ARRAYS] = hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / MANIFEST).write_text(json.dumps(manifest))
    artifact = load(folder, {"constant": Constant})
    assert artifact.model.scores.shape == (0,) and artifact.item_ids.tolist() == ["a", "b", "c", "d"]
