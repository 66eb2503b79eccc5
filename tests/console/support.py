"""Helpers shared by the console tests: a signed-in HTTP client and a small generated catalogue on disk."""

from __future__ import annotations

import html
import re
import time
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


def wait_final(client: httpx.Client, arn: str, timeout: float = 120) -> str:
    """Poll the console's status badge until it stops polling; the final status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get("/console/status", params={"arn": arn}, headers={"HX-Request": "true"})
        assert response.status_code == 200, response.text
        if "HX-Refresh" in response.headers:
            found = re.search(r'data-status="([^"]*)"', response.text)
            assert found is not None
            return found.group(1)
        time.sleep(0.2)
    raise AssertionError(f"{arn} is still in progress after {timeout:.0f} s")


def location_arn(response: httpx.Response, kind: str) -> str:
    """The ARN of the page a form redirected to (`/console/<kind>?arn=...`)."""
    assert response.status_code == 303, response.text
    target = response.headers["location"]
    assert "error=" not in target, unquote(target)
    found = arns_in(target.replace("%2F", "/"), kind)
    assert found, target
    return found[0]


def crawl(client: httpx.Client, start: str, limit: int = 400) -> dict[str, int]:
    """Every console page reachable from `start` by links: path → HTTP status."""
    seen: dict[str, int] = {}
    queue = [start]
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        response = client.get(path)
        seen[path] = response.status_code
        if response.status_code == 200 and "text/html" in response.headers.get("content-type", ""):
            for href in re.findall(r'href="(/console/[^"#]*)"', response.text):
                href = html.unescape(href)
                if "/static/" not in href and href not in seen:
                    queue.append(href)
    return seen
