from __future__ import annotations

import numpy as np
import pytest

from reelrank.evaluation.splits import leave_last_out, personalize_split, sampled_negatives
from reelrank.recipes.base import Interactions
from tests.evaluation._data import interactions, random_interactions


@pytest.fixture(scope="module")
def data() -> Interactions:
    return random_interactions(n_users=200, n_items=300, max_length=40, seed=1)


def test_personalize_split_holds_out_ten_percent_of_users(data: Interactions) -> None:
    split = personalize_split(data, seed=3)
    assert split.held_out.size == 20
    assert np.all(np.diff(split.held_out) > 0)
    assert not np.isin(split.train.users, split.held_out).any()
    # Training keeps every interaction of the other users, in the same index space.
    others = ~np.isin(data.users, split.held_out)
    np.testing.assert_array_equal(split.train.items, data.items[others])
    np.testing.assert_array_equal(split.train.users, data.users[others])
    np.testing.assert_array_equal(split.train.timestamps, data.timestamps[others])
    assert (split.train.n_users, split.train.n_items) == (data.n_users, data.n_items)


def test_personalize_split_oldest_ninety_newest_ten(data: Interactions) -> None:
    split = personalize_split(data, seed=3)
    hist = data.histories()
    counts = np.bincount(data.users, minlength=data.n_users)
    np.testing.assert_array_equal(split.users, split.held_out[counts[split.held_out] >= 2])
    assert len(split.histories) == len(split.targets) == split.users.size
    for user, history, targets in zip(split.users.tolist(), split.histories, split.targets, strict=True):
        n = len(hist[user])
        np.testing.assert_array_equal(np.concatenate((history, targets)), hist[user])
        assert targets.size == min(max(1, int(np.floor(n / 10 + 0.5))), n - 1)
        assert history.size >= 1


def test_personalize_split_target_sizes() -> None:
    data = interactions([list(range(10)), list(range(20)), [1, 2], list(range(15)), [3]] * 4, n_items=20)
    split = personalize_split(data, test_fraction=0.99, seed=0)  # everyone but one user held out
    assert split.held_out.size == 19
    sizes = {len(h) + len(t): (len(h), len(t)) for h, t in zip(split.histories, split.targets, strict=True)}
    assert sizes == {10: (9, 1), 20: (18, 2), 2: (1, 1), 15: (13, 2)}
    assert 1 not in sizes  # single-interaction users are skipped


def test_personalize_split_at_least_one_user() -> None:
    data = interactions([[0, 1, 2], [1, 2, 3], [2, 3, 4]])
    split = personalize_split(data, seed=0)
    assert split.held_out.size == 1
    assert split.train.users.size == 6


def test_personalize_split_is_deterministic(data: Interactions) -> None:
    a, b = personalize_split(data, seed=7), personalize_split(data, seed=7)
    np.testing.assert_array_equal(a.held_out, b.held_out)
    for x, y in zip(a.targets, b.targets, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(personalize_split(data, seed=8).held_out, a.held_out)


def test_personalize_split_sorts_unsorted_input() -> None:
    data = interactions([[5, 6, 7, 8, 9, 10, 11, 12, 13, 14]] * 2, n_items=20)
    shuffled = Interactions(users=data.users[::-1].copy(), items=data.items[::-1].copy(),
                            timestamps=data.timestamps[::-1].copy(), weights=data.weights, n_users=2, n_items=20)
    split = personalize_split(shuffled, seed=0)
    np.testing.assert_array_equal(split.targets[0], [14])
    np.testing.assert_array_equal(split.histories[0], np.arange(5, 14))


def test_leave_last_out(data: Interactions) -> None:
    hist = data.histories()
    counts = np.bincount(data.users, minlength=data.n_users)
    split = leave_last_out(data)
    np.testing.assert_array_equal(split.users, np.flatnonzero(counts >= 2))
    assert split.targets.shape == (split.users.size,) == (len(split.histories),)
    assert split.train.users.size == data.users.size - split.users.size
    train_hist = split.train.histories()
    for user, history, target in zip(split.users.tolist(), split.histories, split.targets.tolist(), strict=True):
        np.testing.assert_array_equal(history, hist[user][:-1])
        np.testing.assert_array_equal(train_hist[user], hist[user][:-1])
        assert target == hist[user][-1]
    for user in np.flatnonzero(counts == 1).tolist():
        np.testing.assert_array_equal(train_hist[user], hist[user])


def test_leave_last_out_validation(data: Interactions) -> None:
    hist = data.histories()
    counts = np.bincount(data.users, minlength=data.n_users)
    split = leave_last_out(data, validation=True)
    np.testing.assert_array_equal(split.users, np.flatnonzero(counts >= 3))
    assert split.train.users.size == data.users.size - 2 * split.users.size
    train_hist = split.train.histories()
    for user, history, target in zip(split.users.tolist(), split.histories, split.targets.tolist(), strict=True):
        np.testing.assert_array_equal(history, hist[user][:-2])
        np.testing.assert_array_equal(train_hist[user], hist[user][:-2])
        assert target == hist[user][-2]


def test_sampled_negatives_never_positive(data: Interactions) -> None:
    hist = data.histories()
    positives = [hist[u] for u in range(data.n_users)]
    negatives = sampled_negatives(data.n_items, positives, n_negatives=99, seed=0)
    assert negatives.shape == (data.n_users, 99)
    assert negatives.min() >= 0 and negatives.max() < data.n_items
    for row, pos in zip(negatives, positives, strict=True):
        assert np.unique(row).size == 99
        assert not np.isin(row, pos).any()
    np.testing.assert_array_equal(negatives, sampled_negatives(data.n_items, positives, n_negatives=99, seed=0))
    assert not np.array_equal(negatives, sampled_negatives(data.n_items, positives, n_negatives=99, seed=1))


def test_sampled_negatives_dense_user_and_limits() -> None:
    positives = [np.arange(150), np.array([0])]
    negatives = sampled_negatives(200, positives, n_negatives=50, seed=0)
    np.testing.assert_array_equal(np.sort(negatives[0]), np.arange(150, 200))  # exactly the complement
    assert not np.isin(negatives[1], [0]).any()
    with pytest.raises(ValueError):
        sampled_negatives(200, positives, n_negatives=51)


def test_splits_scale_to_ml1m_size() -> None:
    rng = np.random.default_rng(0)
    n_users, n_items, n_rows = 6040, 3706, 1_000_000
    users = np.sort(rng.integers(0, n_users, size=n_rows))
    data = Interactions(users=users, items=rng.integers(0, n_items, size=n_rows),
                        timestamps=np.arange(n_rows, dtype=np.int64), weights=np.ones(n_rows, dtype=np.float32),
                        n_users=n_users, n_items=n_items)
    split = personalize_split(data)
    assert split.held_out.size == 604
    assert split.train.users.size + sum(h.size + t.size for h, t in zip(split.histories, split.targets,
                                                                        strict=True)) == n_rows
    assert leave_last_out(data).targets.size == n_users
