"""The dispatcher on its own: an operation without a handler gets a modelled error, never a 500."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from reelrank.config import Settings
from reelrank.protocol.dispatch import Dispatcher, HandlerLookup

TARGET = {"X-Amz-Target": "AmazonPersonalize.ListSchemas"}


def client(tmp_path: Path, handlers: HandlerLookup) -> httpx.AsyncClient:
    app = Dispatcher(Settings(data_dir=tmp_path, auth=False), handlers, Starlette())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reelrank")


@pytest.fixture()
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_an_operation_without_a_handler_answers_invalid_input(tmp_path: Path) -> None:
    async with client(tmp_path, lambda _operation: None) as http:
        response = await http.post("/", content=b"{}", headers=TARGET)
        assert response.status_code == 400
        assert response.json() == {"__type": "InvalidInputException", "message": (
            "ListSchemas is not supported by this reelrank server yet; see docs/compatibility.md.")}
        response = await http.post("/recommendations", json={"userId": "u1"})
        assert response.status_code == 400 and response.headers["x-amzn-ErrorType"] == "InvalidInputException"


@pytest.mark.anyio
async def test_a_handler_crash_is_an_internal_failure(tmp_path: Path) -> None:
    def broken(_params: dict[str, object]) -> dict[str, object]:
        raise RuntimeError("boom")

    async with client(tmp_path, lambda _operation: broken) as http:
        response = await http.post("/", content=b"{}", headers=TARGET)
    assert response.status_code == 500
    assert response.json()["__type"] == "InternalFailure"


@pytest.mark.anyio
async def test_other_requests_go_to_the_fallback_app(tmp_path: Path) -> None:
    async with client(tmp_path, lambda _operation: None) as http:
        assert (await http.get("/")).status_code == 404
        assert (await http.post("/elsewhere", content=b"{}")).status_code == 404
