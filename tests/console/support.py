"""Helpers shared by the console tests: a signed-in HTTP client and a small generated catalogue on disk."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

from reelrank import synthetic
from reelrank.config import DEMO_ACCESS_KEY, DEMO_SECRET_KEY
from tests.support.servers import ReelrankServer

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"


def signed_in(server: ReelrankServer) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=60)
    response = client.post("/console/signin", data={"access_key": DEMO_ACCESS_KEY, "secret_key": DEMO_SECRET_KEY})
    assert response.status_code == 303, response.text
    return client


def write_catalogue(folder: Path, seed: int = 11) -> dict[str, Path]:
    """items.csv, users.csv and interactions.csv of a small catalogue (quick to import and train)."""
    catalogue = synthetic.generate(n_users=200, n_items=150, n_interactions=5_000, seed=seed)
    return synthetic.write_catalogue(catalogue, folder)


def arns_in(html: str, kind: str) -> list[str]:
    """The ARNs that the page links to with `/console/<kind>?arn=...`, in order, without repeats."""
    found = [unquote(arn) for arn in re.findall(rf'/console/{kind}\?arn=([^"&]+)', html)]
    return list(dict.fromkeys(found))


def no_server_errors(response: httpx.Response) -> Any:
    assert response.status_code < 500, response.text
    return response
