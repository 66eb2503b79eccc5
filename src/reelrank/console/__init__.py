"""The web console at /console: server-rendered pages (Jinja2) with htmx and Chart.js served from this package."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from reelrank.config import Settings
from reelrank.console.pages import PREFIX, Console
from reelrank.console.sections import JOBS, Sections
from reelrank.service.backend import Backend

__all__ = ["console_routes"]

STATIC = Path(__file__).parent / "static"


def console_routes(backend: Backend, settings: Settings) -> list[BaseRoute]:
    """The console's routes, to add to the app's: `Mount("/console", ...)` with its pages and its static assets."""
    console = Console(backend, settings)
    sections = Sections(console)
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
        # everything else the API can create, inspect, change or delete
        Route("/delete", page(sections.delete), methods=["POST"]),
        Route("/tags", page(sections.tag), methods=["POST"]),
        Route("/group/recommenders", page(sections.recommenders), methods=["GET"]),
        Route("/recommenders", page(sections.create_recommender), methods=["POST"]),
        Route("/recommenders/state", page(sections.recommender_state), methods=["POST"]),
        Route("/recommenders/update", page(sections.update_recommender), methods=["POST"]),
        Route("/campaigns/update", page(sections.update_campaign), methods=["POST"]),
        Route("/solutions/update", page(sections.update_solution), methods=["POST"]),
        Route("/versions/stop", page(sections.stop_version), methods=["POST"]),
        Route("/solution-version", page(sections.solution_version), methods=["GET"]),
        Route("/datasets/update", page(sections.update_dataset), methods=["POST"]),
        Route("/group/filters", page(sections.filters), methods=["GET"]),
        Route("/filters", page(sections.create_filter), methods=["POST"]),
        Route("/filter", page(sections.filter), methods=["GET"]),
        Route("/group/trackers", page(sections.trackers), methods=["GET"]),
        Route("/trackers", page(sections.create_tracker), methods=["POST"]),
        Route("/tracker", page(sections.tracker), methods=["GET"]),
        Route("/events", page(sections.send_event), methods=["POST"]),
        Route("/events/feed", page(sections.events_feed), methods=["GET"]),
        Route("/group/batch-inference", page(sections.batch_inference), methods=["GET"]),
        Route("/group/batch-segments", page(sections.batch_segments), methods=["GET"]),
        Route("/batch-jobs", page(sections.create_batch), methods=["POST"]),
        *(Route(f"/{kind}", page(partial(sections.job, kind=kind)), methods=["GET"]) for kind in JOBS),
        Route("/group/data-jobs", page(sections.data_jobs), methods=["GET"]),
        Route("/exports", page(sections.create_export), methods=["POST"]),
        Route("/deletions", page(sections.create_deletion), methods=["POST"]),
        Route("/group/attribution", page(sections.attributions), methods=["GET"]),
        Route("/attributions", page(sections.create_attribution), methods=["POST"]),
        Route("/attributions/update", page(sections.update_attribution), methods=["POST"]),
        Route("/attribution", page(sections.attribution), methods=["GET"]),
        Route("/schemas", page(sections.schemas), methods=["GET"]),
        Route("/schemas", page(sections.create_schema), methods=["POST"]),
        Route("/schema", page(sections.schema), methods=["GET"]),
        Route("/recipes", page(sections.recipes), methods=["GET"]),
        Route("/recipe", page(sections.recipe), methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    return [Mount(PREFIX, routes=routes, name="console")]
