"""ARN formats of reference §1.3."""

from __future__ import annotations

import secrets

from reelrank.errors import InvalidInputException


def account_arn(region: str, account: str, resource: str) -> str:
    return f"arn:aws:personalize:{region}:{account}:{resource}"


def short_id() -> str:
    """The 8 hex characters Personalize uses for solution versions and event trackers."""
    return secrets.token_hex(4)


def resource_path(arn: str) -> str:
    """`dataset-group/Movies` for `arn:aws:personalize:us-east-1:0000:dataset-group/Movies`."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "personalize" or "/" not in parts[5]:
        raise InvalidInputException(f"Invalid ARN: {arn}")
    return parts[5]


def name_of(arn: str) -> str:
    return resource_path(arn).split("/", 1)[1]
