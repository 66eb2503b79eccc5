"""TagResource, UntagResource, ListTagsForResource, and tags given at creation."""

from __future__ import annotations

from typing import Any

from reelrank.errors import TooManyTagsException
from reelrank.service.context import Context, require
from reelrank.store.metadata import Transaction


def apply_tags(tx: Transaction, arn: str, tags: list[dict[str, str]] | None, limit: int) -> None:
    if not tags:
        return
    new = {tag["tagKey"]: tag.get("tagValue", "") for tag in tags}
    if len(tx.tags(arn) | new) > limit:
        raise TooManyTagsException(f"The resource {arn} would have more than {limit} tags.")
    tx.put_tags(arn, new)


class Tagging:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _resource_kind(self, tx: Transaction, arn: str) -> str:
        resource = tx.get_resource(arn)
        return require(tx, arn, resource.kind if resource else "").kind

    def tag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            self._resource_kind(tx, params["resourceArn"])
            apply_tags(tx, params["resourceArn"], params["tags"], self.ctx.settings.quotas.tags_per_resource)
        return {}

    def untag_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            self._resource_kind(tx, params["resourceArn"])
            tx.remove_tags(params["resourceArn"], params["tagKeys"])
        return {}

    def list_tags_for_resource(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            self._resource_kind(tx, params["resourceArn"])
            tags = tx.tags(params["resourceArn"])
        return {"tags": [{"tagKey": key, "tagValue": value} for key, value in tags.items()]}
