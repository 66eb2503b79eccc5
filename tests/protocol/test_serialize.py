"""Output projection onto botocore's output shapes (`protocol.serialize`)."""

from __future__ import annotations

import datetime as dt

import orjson

from reelrank.protocol.models import control_plane_operations, rest_routes
from reelrank.protocol.serialize import encode, project

RECOMMENDATIONS = rest_routes()["/recommendations"].model.output_shape


def test_a_clean_recommendation_list_is_kept() -> None:
    items = [{"itemId": str(k), "score": 0.5, "reason": ["Exploration"], "metadata": {"GENRES": "Drama"}}
             for k in range(25)]
    answer = {"itemList": items, "recommendationId": "RID-1"}
    assert project(answer, RECOMMENDATIONS) == answer


def test_unknown_members_and_nones_are_dropped_from_every_item() -> None:
    items = [{"itemId": "1", "score": 0.5}, {"itemId": "2", "score": None}, {"itemId": "3", "internal": 7}]
    encoded = orjson.loads(encode({"itemList": items, "recommendationId": "RID-1", "debug": True}, RECOMMENDATIONS))
    assert encoded == {"itemList": [{"itemId": "1", "score": 0.5}, {"itemId": "2"}, {"itemId": "3"}],
                       "recommendationId": "RID-1"}


def test_nested_structures_lose_unknown_members() -> None:
    shape = control_plane_operations()["DescribeCampaign"].model.output_shape
    when = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    projected = project({"campaign": {"name": "c", "creationDateTime": when.timestamp(), "extra": 1}}, shape)
    assert projected == {"campaign": {"name": "c", "creationDateTime": when.timestamp()}}
