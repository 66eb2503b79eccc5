"""The serving arithmetic shared with batch inference: softmax's spread is numpy's std, bit for bit; scores are
rounded as Python rounds."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from reelrank.recipes.ease import RecencyEASE
from reelrank.recipes.registry import spec_for
from reelrank.serving.deployments import Deployment, _std, round7, softmax, softmax_at
from reelrank.serving.histories import index_history

finite32 = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=32)


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(np.float32, st.integers(1, 5000), elements=finite32))
def test_std_is_numpys_std_bit_for_bit(values: np.ndarray) -> None:
    assert _std(values).tobytes() == values.std().tobytes()


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 500), elements=st.floats(-1e6, 1e6)))
def test_std_of_float64_too(values: np.ndarray) -> None:
    assert _std(values).tobytes() == values.std().tobytes()


def test_softmax_sums_to_one_and_keeps_the_order() -> None:
    scores = np.array([3.0, 1.0, 2.0, 2.0], dtype=np.float32)
    probabilities = softmax(scores)
    assert abs(float(probabilities.sum()) - 1.0) < 1e-6
    assert list(np.argsort(-probabilities, kind="stable")) == [0, 2, 3, 1]
    assert np.all(softmax(np.zeros(3, dtype=np.float32)) == np.float32(1 / 3))


def test_vectorised_rounding_is_pythons() -> None:
    rng = np.random.default_rng(7)
    values = np.concatenate([rng.random(200_000, dtype=np.float32), rng.random(50_000, dtype=np.float32) * 1e-5,
                             np.array([0.0, 1.0, 0.5, 0.12345675, 0.00000005, 1e-12], dtype=np.float32)])
    halves = (np.arange(1, 20_000, dtype=np.float64) + 0.5) / 1e7  # near ties of the 7th decimal
    values = np.concatenate([values, halves.astype(np.float32)])
    assert round7(values).tolist() == [round(float(value), 7) for value in values]


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.float32, st.integers(1, 500), elements=finite32), st.data())
def test_softmax_at_is_softmax_at_those_positions(scores: np.ndarray, data: st.DataObject) -> None:
    positions = data.draw(st.lists(st.integers(0, len(scores) - 1), max_size=30))
    expected = np.exp((scores - scores.max()) / (float(scores.std()) or 1.0))
    expected = expected / max(float(expected.sum()), 1e-12)
    assert softmax_at(scores, positions).tobytes() == expected[positions].tobytes()


class CountingEASE(RecencyEASE):
    prepared = 0

    def prepare(self, history: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.prepared += 1
        return super().prepare(history)


def test_a_history_is_prepared_once_per_model_until_it_grows() -> None:
    rng = np.random.default_rng(3)
    model = CountingEASE()
    model.weights = rng.normal(size=(30, 30)).astype(np.float32)
    ids = np.array([f"i{k}" for k in range(30)])
    spec = spec_for("arn:aws:personalize:::recipe/aws-user-personalization-v2")
    assert spec is not None
    deployment = Deployment("v1", model, ids, {item: k for k, item in enumerate(ids)}, spec, np.arange(30))
    history = index_history([f"i{k}" for k in (4, 9, 4, 17)], ["watch"] * 4, deployment.index)
    expected = RecencyEASE.score(model, history.items).tobytes()
    model.prepared = 0
    first = deployment.scores(history, None)
    again = deployment.scores(history, None)
    assert first is not None and again is not None and model.prepared == 1
    assert first.tobytes() == again.tobytes() == expected
    grown = index_history([f"i{k}" for k in (4, 9, 4, 17, 2)], ["watch"] * 5, deployment.index)
    assert deployment.scores(grown, None) is not None and model.prepared == 2
