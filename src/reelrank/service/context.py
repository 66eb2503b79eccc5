"""What every service family needs: settings, the metadata store, data set files, and the job queue."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson

from reelrank.config import Settings
from reelrank.errors import InvalidNextTokenException, ResourceNotFoundException
from reelrank.service.arns import account_arn
from reelrank.serving.catalogs import Catalogs, UserAttributes
from reelrank.serving.deployments import Deployments
from reelrank.serving.histories import ACTION_EVENTS, Histories
from reelrank.store.datasets import DatasetFiles
from reelrank.store.event_writer import EventClock, EventWriter
from reelrank.store.metadata import MetadataStore, Resource, Transaction

DEFAULT_PAGE_SIZE = 100


@dataclass
class Context:
    settings: Settings
    store: MetadataStore
    files: DatasetFiles
    wake_jobs: Callable[[], None] = field(default=lambda: None)
    deployments: Deployments = field(default_factory=Deployments)
    event_clock: EventClock = field(default_factory=EventClock)
    """Shared by a server's processes (see reelrank.server), so each sees the events the others store."""
    resolved: dict[str, Any] = field(default_factory=dict)
    """The runtime's cache of campaign and recommender resolutions; updates and deletes drop their entry."""

    def forget(self, arn: str) -> None:
        self.resolved.pop(arn, None)

    @cached_property
    def histories(self) -> Histories:
        return Histories(self.store, self.files, self.event_clock)

    @cached_property
    def action_histories(self) -> Histories:
        return Histories(self.store, self.files, self.event_clock, ACTION_EVENTS)

    @cached_property
    def event_writer(self) -> EventWriter:
        return EventWriter(self.store, self.event_clock)

    @cached_property
    def catalogs(self) -> Catalogs:
        return Catalogs(self.store, self.files)

    @cached_property
    def users(self) -> UserAttributes:
        return UserAttributes(self.store, self.files)

    def arn(self, resource: str) -> str:
        return account_arn(self.settings.region, self.settings.account, resource)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self.store.transaction() as tx:
            yield tx

    def describe_one(self, kind: str, arn: str, key: str) -> dict[str, Any]:
        """A Describe* answer: `{key: <the resource>}`."""
        with self.store.reading() as tx:
            return {key: describe(require(tx, arn, kind))}

    def list_page(self, kind: str, params: dict[str, Any], key: str, parent_member: str | None = None,
                  newest_first: bool = False) -> dict[str, Any]:
        """A List* answer: `{key: [<summaries>], "nextToken": …}`."""
        with self.store.reading() as tx:
            rows, token = page(tx, kind, params, parent_member, newest_first)
        return {key: [describe(row) for row in rows], "nextToken": token}


def require(tx: Transaction, arn: str, kind: str) -> Resource:
    resource = tx.get_resource(arn)
    if resource is None or resource.kind != kind:
        raise ResourceNotFoundException(f"Could not find resource with ARN {arn}.")
    return resource


def describe(resource: Resource, **extra: Any) -> dict[str, Any]:
    """A resource as its Describe* output: stored body plus status and timestamps."""
    result = dict(resource.body)
    if resource.status is not None:
        result["status"] = resource.status
    result["creationDateTime"] = resource.created_at
    result["lastUpdatedDateTime"] = resource.updated_at
    result.update(extra)
    return result


def page(tx: Transaction, kind: str, params: dict[str, Any], parent_member: str | None = None,
         newest_first: bool = False) -> tuple[list[Resource], str | None]:
    """One page of a List* operation, with an opaque `nextToken` bound to the same filter."""
    parent = params.get(parent_member) if parent_member else None
    scope = hashlib.sha256(f"{kind}|{parent}".encode()).hexdigest()[:12]
    offset, limit = page_window(params, scope)
    rows = tx.list_resources(kind, parent, offset, limit + 1, newest_first)
    return rows[:limit], next_token(len(rows), offset, limit, scope)


def page_window(params: dict[str, Any], scope: str) -> tuple[int, int]:
    """(offset, limit) of the page that `nextToken` and `maxResults` ask for."""
    return _decode_token(params.get("nextToken"), scope), int(params.get("maxResults", DEFAULT_PAGE_SIZE))


def next_token(fetched: int, offset: int, limit: int, scope: str) -> str | None:
    """The token for the following page, when more than `limit` rows were fetched from `offset`."""
    return _encode_token(offset + limit, scope) if fetched > limit else None


def _encode_token(offset: int, scope: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"o": offset, "s": scope})).decode()


def _decode_token(token: str | None, scope: str) -> int:
    if token is None:
        return 0
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        offset = data["o"]
        if data["s"] == scope and isinstance(offset, int) and offset >= 0:
            return offset
    except (ValueError, KeyError, TypeError):
        pass
    raise InvalidNextTokenException("The next token is invalid.")
