"""Contextual metadata: how much a request's `context` improves the next-item ranking (reelrank.recipes.contextual).

No public data set here has contextual metadata, so the data is `reelrank.synthetic`'s catalogue with a DEVICE per
event: half the titles (every other id) are watched on tv and the rest on mobile, except for a share of events whose
device is flipped at random (the noisier, the less the device tells). Protocol: each user's last event is the target
(with its device as the request's context), the earlier ones train RecencyEASE (its defaults) and are the input;
full ranking over all items with the seen ones excluded, as the server ranks: `Deployment.in_context` on the model's
scores, against the same scores without context.

    python benchmarks/context.py [--write-docs]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from bench_common import DOCS, write_section
from reelrank import synthetic
from reelrank.recipes.data import build, select_events
from reelrank.recipes.ease import RecencyEASE
from reelrank.recipes.registry import spec_for
from reelrank.serving.deployments import Deployment

SECTION = "## Contextual metadata"
FLIPS = (0.1, 0.2, 0.35, 0.5)
USERS, ITEMS, INTERACTIONS = 3000, 800, 120_000
K = 10


def with_devices(table: pa.Table, flip: float, seed: int) -> pa.Table:
    titles = table.column("ITEM_ID").to_pylist()
    on_tv = set(sorted(set(titles))[::2])
    flipped = np.random.default_rng(seed).random(table.num_rows) < flip
    devices = ["tv" if (title in on_tv) != change else "mobile" for title, change in zip(titles, flipped, strict=True)]
    return table.append_column("DEVICE", pa.array(devices))


def measure(flip: float) -> dict[str, float]:
    catalogue = synthetic.generate(n_users=USERS, n_items=ITEMS, n_interactions=INTERACTIONS, seed=11)
    table = with_devices(catalogue.interactions, flip, seed=3)
    order = np.lexsort((table.column("TIMESTAMP").to_numpy(), np.asarray(table.column("USER_ID").to_pylist())))
    table = table.take(pa.array(order))
    users = np.asarray(table.column("USER_ID").to_pylist())
    last = np.r_[users[1:] != users[:-1], True]
    events, weights = select_events(table.filter(pa.array(~last)), None, None, None)
    data = build(events, weights, contextual=["DEVICE"])
    model = RecencyEASE()
    model.fit(data.interactions)
    spec = spec_for("arn:aws:personalize:::recipe/aws-user-personalization")
    assert spec is not None and data.context is not None
    index = {item: k for k, item in enumerate(data.item_ids.tolist())}
    deployment = Deployment("benchmark", model, data.item_ids, index, spec, np.arange(len(index)), None, data.context)
    user_index = {user: k for k, user in enumerate(data.user_ids.tolist())}
    histories = data.interactions.histories()
    found = {"without": [0.0, 0.0], "with": [0.0, 0.0]}
    targets = table.filter(pa.array(last))
    count = 0
    for user, item, device in zip(*(targets.column(name).to_pylist() for name in ("USER_ID", "ITEM_ID", "DEVICE")),
                                  strict=True):
        if user not in user_index or item not in index:
            continue
        count += 1
        history = histories[user_index[user]]
        scores = model.score(history)
        for name, ranked in (("without", scores), ("with", deployment.in_context(scores, {"DEVICE": device}))):
            ranked = ranked.copy()
            ranked[history] = -np.inf
            best = np.argsort(-ranked, kind="stable")[:K].tolist()
            if index[item] in best:
                found[name][0] += 1
                found[name][1] += 1 / np.log2(best.index(index[item]) + 2)
    return {f"{metric}_{name}": value / count for name, (hits, gains) in found.items()
            for metric, value in (("hr", hits), ("ndcg", gains))} | {"users": count}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write-docs", action="store_true", help=f"rewrite '{SECTION}' in docs/benchmarks.md")
    args = parser.parse_args()
    started = time.time()
    rows = []
    for flip in FLIPS:
        result = measure(flip)
        rows.append(f"| {1 - flip:.0%} | {result['hr_without']:.4f} | {result['hr_with']:.4f} | "
                    f"{result['hr_with'] / result['hr_without']:.3f} | {result['ndcg_without']:.4f} | "
                    f"{result['ndcg_with']:.4f} | {result['ndcg_with'] / result['ndcg_without']:.3f} |")
        print(rows[-1], flush=True)
    header = ("| events whose device matches the title's | HR@10 without | HR@10 with context | ratio "
              "| NDCG@10 without | NDCG@10 with context | ratio |")
    table = "\n".join([header, "|---|---:|---:|---:|---:|---:|---:|", *rows])
    text = f"""{SECTION}

Measured {datetime.now(UTC):%Y-%m-%d} on `{platform.platform()}`, {os.cpu_count()} cores
({time.time() - started:.0f} s). Command: `python benchmarks/context.py --write-docs`.

`reelrank.synthetic` data ({USERS:,} users, {ITEMS} titles, {INTERACTIONS:,} events) with a contextual DEVICE per
event: every other title is watched on tv, the rest on mobile, except for events whose device is flipped at random.
Each user's last event is the target and its device the request's `context`; RecencyEASE (defaults) trains on the
earlier events; full ranking with seen items excluded, as the server ranks (`Deployment.in_context`), against the
same scores without context.

{table}

With a device that tells nothing (50 %) the context changes nothing measurable (differences of ±0.01 are within the
noise of {USERS:,} targets); the more the device tells, the more it helps. The gain stays modest because the user's
history already says most of what comes next (sequels, related titles).
"""
    print(text)
    if args.write_docs:
        write_section(SECTION, text)
        print(f"wrote '{SECTION}' in {DOCS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
