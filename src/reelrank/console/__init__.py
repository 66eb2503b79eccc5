"""The web console at /console: server-rendered pages (Jinja2) with htmx and Chart.js served from this package."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from reelrank.config import Settings
from reelrank.console.pages import PREFIX, Console
from reelrank.service.backend import Backend

__all__ = ["console_routes"]

STATIC = Path(__file__).parent / "static"


def console_routes(backend: Backend, settings: Settings) -> list[BaseRoute]:
    """The console's routes, to add to the app's: `Mount("/console", ...)` with its pages and its static assets."""
    console = Console(backend, settings)
    page = console.page
    routes: list[BaseRoute] = [
        Route("/signin", console.signin_form, methods=["GET"]),
        Route("/signin", console.signin, methods=["POST"]),
        Route("/signout", console.signout, methods=["POST"]),
        Route("/", page(console.groups), methods=["GET"]),
        Route("/groups", page(console.create_group), methods=["POST"]),
        Route("/groups/delete", page(console.delete_group), methods=["POST"]),
        Route("/group", page(console.group), methods=["GET"]),
        Route("/datasets", page(console.create_dataset), methods=["POST"]),
        Route("/dataset", page(console.dataset), methods=["GET"]),
        Route("/imports", page(console.create_import), methods=["POST"]),
        Route("/status", page(console.status), methods=["GET"]),
        Route("/solutions", page(console.create_solution), methods=["POST"]),
        Route("/solution", page(console.solution), methods=["GET"]),
        Route("/versions", page(console.create_version), methods=["POST"]),
        Route("/campaigns", page(console.create_campaign), methods=["POST"]),
        Route("/campaign", page(console.campaign), methods=["GET"]),
        Route("/recommender", page(console.recommender), methods=["GET"]),
        Route("/try", page(console.try_it), methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    return [Mount(PREFIX, routes=routes, name="console")]
