"""Hand-built signed requests, for the cases an SDK refuses to send."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from reelrank.config import DEMO_ACCESS_KEY, DEMO_SECRET_KEY


def signed(url: str, body: bytes, headers: dict[str, str], key: str = DEMO_ACCESS_KEY,
           secret: str = DEMO_SECRET_KEY, when: dt.datetime | None = None) -> dict[str, str]:
    """Headers of a SigV4-signed POST, optionally signed at another time."""
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    signer = SigV4Auth(Credentials(key, secret), "personalize", "us-east-1")
    if when is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(request)
    return dict(request.headers.items())


def control_plane(url: str, operation: str, body: bytes, **signing: Any) -> httpx.Response:
    headers = {"X-Amz-Target": f"AmazonPersonalize.{operation}", "Content-Type": "application/x-amz-json-1.1"}
    return httpx.post(f"{url}/", content=body, headers=signed(f"{url}/", body, headers, **signing), timeout=30)


def rest(url: str, path: str, body: bytes, **signing: Any) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    return httpx.post(f"{url}{path}", content=body, headers=signed(f"{url}{path}", body, headers, **signing),
                      timeout=30)
