"""Small synthetic data with a planted, known answer, shared by the recipe tests.

* 180 items form 10 clusters of 18. Each cluster has a fixed cyclic *walk order* (a random permutation of its items).
  Each of the 300 "walk" users walks 4–8 consecutive steps along one cluster's ring from a random start, then 4–9
  steps along another cluster's ring (user % 10, then a different one). The item after a user's last one is the
  next unseen item of the second walk, so a model must weigh the recent part of the history to find it.
* 10 globally popular items (180–189): before each walk step a user may interact with one (probability 0.3,
  Zipf-like choice), so each popular item has far more distinct users than any cluster item. A user's last event is
  always a walk step.
* 5 burst items (190–194) and 40 "burst" users: all their events fall in the last two hours before the newest
  timestamp; the burst items only occur there, while one popular item is flat across the last two 2-hour
  intervals and another declines.
* 5 cold items (195–199) have no interactions; their metadata puts them in clusters 0–4.
* `item_features`: one token per cluster, one for "popular", one for "burst".

`train` holds every event except each walk user's last one (leave-last-out); `targets` are those last items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from reelrank.recipes.base import IntArray, Interactions, Model

N_CLUSTERS = 10
CLUSTER_SIZE = 18
N_WALK_USERS = 300
N_BURST_USERS = 40
POPULAR = np.arange(180, 190, dtype=np.int64)
BURST = np.arange(190, 195, dtype=np.int64)
COLD = np.arange(195, 200, dtype=np.int64)
N_ITEMS = 200
HOUR = 3600
T0 = 1_700_000_000
NEWEST = T0 + 30 * 24 * HOUR


@dataclass(frozen=True)
class Planted:
    train: Interactions
    histories: list[IntArray]
    """Training history of each walk user (their first N_WALK_USERS users), oldest first."""
    targets: IntArray
    """Each walk user's held-out last item."""
    cluster_of: IntArray
    """Cluster of each item; -1 for popular and burst items; cold items carry their metadata cluster."""
    walk_order: IntArray
    """N_CLUSTERS × CLUSTER_SIZE: each cluster's items in walk order (cyclic)."""

    def successor(self, item: int) -> int:
        """The item after `item` on its cluster's walk."""
        row = self.walk_order[self.cluster_of[item]]
        position = int(np.flatnonzero(row == item)[0])
        return int(row[(position + 1) % CLUSTER_SIZE])


def make(seed: int = 7) -> Planted:
    rng = np.random.default_rng(seed)
    walk_order = np.stack([rng.permutation(np.arange(c * CLUSTER_SIZE, (c + 1) * CLUSTER_SIZE))
                           for c in range(N_CLUSTERS)]).astype(np.int64)
    popular_p = 1.0 / np.arange(1, len(POPULAR) + 1)
    popular_p /= popular_p.sum()
    events: list[tuple[int, int, int]] = []  # (user, timestamp, item)
    targets = np.zeros(N_WALK_USERS, dtype=np.int64)
    for user in range(N_WALK_USERS):
        first = user % N_CLUSTERS
        second = (first + 1 + (user // N_CLUSTERS) % (N_CLUSTERS - 1)) % N_CLUSTERS
        walk = [(first, int(rng.integers(4, 9))), (second, int(rng.integers(4, 10)))]
        t = T0 + int(rng.integers(0, 20 * 24 * HOUR))
        used: set[int] = set()
        for cluster, steps in walk:
            ring = walk_order[cluster]
            start = int(rng.integers(CLUSTER_SIZE))
            for step in range(steps):
                if rng.random() < 0.3:
                    item = int(rng.choice(POPULAR, p=popular_p))
                    if item not in used:
                        used.add(item)
                        t += int(rng.integers(600, 6 * HOUR))
                        events.append((user, t, item))
                t += int(rng.integers(600, 6 * HOUR))
                events.append((user, t, int(ring[(start + step) % CLUSTER_SIZE])))
            targets[user] = ring[(start + steps - 1) % CLUSTER_SIZE]
    recent, previous = NEWEST - 2 * HOUR, NEWEST - 4 * HOUR  # starts of the last two 2-hour intervals
    burst_counts = (12, 10, 8, 7, 6)
    for offset in range(N_BURST_USERS):
        user = N_WALK_USERS + offset
        events.append((user, previous + 60 + offset * 60, int(POPULAR[1])))  # flat: once per interval
        events.append((user, recent + 60 + offset * 60, int(POPULAR[1])))
        if offset < 12:
            events.append((user, previous + 90 + offset * 60, int(POPULAR[0])))  # declining: 12 then 4
        if offset < 4:
            events.append((user, recent + 90 + offset * 60, int(POPULAR[0])))
        for burst_item, count in zip(BURST.tolist(), burst_counts, strict=True):
            if offset < count:
                events.append((user, recent + 120 + offset * 60 + burst_item, burst_item))
    events.append((N_WALK_USERS, NEWEST, int(BURST[0])))
    array = np.array(sorted(events), dtype=np.int64)
    users, timestamps, items = array[:, 0], array[:, 1], array[:, 2]
    last = np.searchsorted(users, np.arange(1, N_WALK_USERS + 1)) - 1
    keep = np.ones(len(users), dtype=bool)
    keep[last] = False
    assert np.array_equal(items[last], targets)
    cluster_of = np.full(N_ITEMS, -1, dtype=np.int64)
    cluster_of[: N_CLUSTERS * CLUSTER_SIZE] = np.arange(N_CLUSTERS * CLUSTER_SIZE) // CLUSTER_SIZE
    cluster_of[COLD] = np.arange(len(COLD))
    token = np.where(cluster_of >= 0, cluster_of, N_CLUSTERS)
    token[BURST] = N_CLUSTERS + 1
    features = sp.csr_matrix((np.ones(N_ITEMS, dtype=np.float32), (np.arange(N_ITEMS), token)),
                             shape=(N_ITEMS, N_CLUSTERS + 2))
    n_users = N_WALK_USERS + N_BURST_USERS
    train = Interactions(users[keep], items[keep], timestamps[keep], np.ones(int(keep.sum()), dtype=np.float32),
                         n_users, N_ITEMS, item_features=features)
    histories = train.histories()[:N_WALK_USERS]
    return Planted(train, histories, targets, cluster_of, walk_order)


def top(scores: np.ndarray, k: int) -> IntArray:
    """The indices of the `k` best scores, ties to the lower index; -inf never listed."""
    order = np.lexsort((np.arange(scores.shape[0]), -np.asarray(scores, dtype=np.float64)))
    order = order[np.asarray(scores, dtype=np.float64)[order] > -np.inf]
    return order[:k].astype(np.int64)


def hit_rate(model: Model, planted: Planted, k: int = 10) -> float:
    """Leave-last-out HR@k over the walk users: is the held-out item in the top k of the unseen items?"""
    hits = 0
    for history, target in zip(planted.histories, planted.targets, strict=True):
        scores = np.array(model.score(history), dtype=np.float64)
        scores[history] = -np.inf
        hits += int(target in top(scores, k))
    return hits / len(planted.targets)


def neighbour_quality(model: Model, planted: Planted, k: int = 10) -> tuple[float, float]:
    """Over the cluster items as anchors: the share of the top `k` related items in the anchor's cluster, and the
    share of anchors whose walk successor is among their top 3."""
    precision = successor = 0.0
    anchors = range(N_CLUSTERS * CLUSTER_SIZE)
    for item in anchors:
        scores = np.array(model.score(np.zeros(0, dtype=np.int64), item=item), dtype=np.float64)
        scores[item] = -np.inf
        ranked = top(scores, k)
        precision += float(np.mean(planted.cluster_of[ranked] == planted.cluster_of[item])) if ranked.size else 0.0
        successor += float(planted.successor(item) in ranked[:3])
    return precision / len(anchors), successor / len(anchors)
