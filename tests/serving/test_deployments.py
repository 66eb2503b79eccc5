"""The serving arithmetic shared with batch inference: softmax's spread is numpy's std, bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from reelrank.serving.deployments import _std, softmax

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
