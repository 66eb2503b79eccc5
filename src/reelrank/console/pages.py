"""The console's pages: every change goes through the service handlers, exactly as the API's calls do."""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import jinja2
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from reelrank import synthetic
from reelrank.config import Settings
from reelrank.console import auth, live
from reelrank.console.explain import explain, similar_items
from reelrank.console.stats import DatasetReader
from reelrank.errors import InvalidInputException, ResourceNotFoundException, ServiceError
from reelrank.protocol.dispatch import invoke
from reelrank.protocol.models import all_operations
from reelrank.protocol.serialize import project
from reelrank.protocol.validation import validate
from reelrank.recipes.registry import spec_for
from reelrank.service.backend import Backend
from reelrank.service.progress import Progress
from reelrank.serving.deployments import Deployment

log = logging.getLogger("reelrank.console")

PREFIX = "/console"
TEMPLATES = Path(__file__).parent / "templates"
MAX_FORM_BYTES = 512 * 1024
PAGE_SIZE = 100
MAX_PAGES = 50
RECENT_VERSIONS = 4
DEFAULT_RECIPE = "arn:aws:personalize:::recipe/aws-user-personalization"
HISTORY_ROWS = 10
SCHEMA_TEMPLATES = {"Interactions": synthetic.INTERACTIONS_SCHEMA, "Items": synthetic.ITEMS_SCHEMA,
                    "Users": synthetic.USERS_SCHEMA}
Endpoint = Callable[[Request], Awaitable[Response]]
ROLE_NAME = "reelrank"
"""The role a console form names where the API requires a roleArn (reelrank accepts any well-formed role)."""
LINKED_KINDS = {
    "dataset-group": "group", "dataset": "dataset", "schema": "schema", "campaign": "campaign",
    "recommender": "recommender", "filter": "filter", "event-tracker": "tracker", "recipe": "recipe",
    "batch-inference-job": "batch-inference-job", "batch-segment-job": "batch-segment-job",
    "metric-attribution": "attribution", "dataset-import-job": "import-job", "dataset-export-job": "export-job",
    "data-deletion-job": "deletion-job",
}
"""ARN resource type → the console page that shows it (solutions and their versions are told apart by depth)."""


def is_live(status: str | None) -> bool:
    """Whether a status will still change by itself (so the page polls it)."""
    return bool(status) and str(status).endswith(("PENDING", "IN_PROGRESS", "IN PROGRESS", "STOPPING"))


def _when(value: Any) -> str:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)


def _short(arn: Any) -> str:
    return str(arn).rsplit("/", 1)[-1] if arn else ""


def _link(kind: str, arn: str) -> str:
    return f"{PREFIX}/{kind}?{urlencode({'arn': arn})}"


def link_for(arn: Any) -> str | None:
    """The console page of a resource named by its ARN, or None when the console has no page for it."""
    text = str(arn or "")
    if not text.startswith("arn:"):
        return None
    resource = text.split(":", 5)[-1]
    kind, _, rest = resource.partition("/")
    if kind == "solution":
        return _link("solution-version" if "/" in rest else "solution", text)
    page = LINKED_KINDS.get(kind)
    return _link(page, text) if page else None


def _duration(value: Any) -> str:
    """Seconds as "1 h 5 min", "3 min 20 s" or "12 s"."""
    try:
        seconds = max(0, round(float(value)))
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.4g}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = _when
    env.filters["short"] = _short
    env.filters["number"] = _number
    env.filters["duration"] = _duration
    env.globals.update(prefix=PREFIX, link=_link, link_for=link_for, is_live=is_live)
    return env


class Console:
    """The pages, bound to the backend whose handlers they call and the settings that say who may sign in."""

    def __init__(self, backend: Backend, settings: Settings) -> None:
        self.backend = backend
        self.settings = settings
        self.env = _environment()
        self.ctx = backend.family(Progress).ctx
        self.reader = DatasetReader(self.ctx)
        self.operations = {operation.name: operation for operation in all_operations()}
        self.role_arn = f"arn:aws:iam::{settings.account}:role/{ROLE_NAME}"
        # Compiling the templates takes about half a second on a small machine: do it in the background at
        # start-up, so that no one's first visit of a page pays for it.
        threading.Thread(target=self._compile_templates, name="reelrank-console-templates", daemon=True).start()

    def _compile_templates(self) -> None:
        for name in self.env.list_templates(extensions=["html"]):
            try:
                self.env.get_template(name)
            except jinja2.TemplateError:  # pragma: no cover - reported again, with its page, when it is rendered
                log.exception("console template %s does not compile", name)

    # -- plumbing -----------------------------------------------------------------------------------------------

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run an operation as the API would: validated against its model, then its handler, where the API runs it."""
        handler = self.backend.handler(operation)
        if handler is None:
            raise InvalidInputException(f"{operation} is not supported by this reelrank server.")
        model = self.operations.get(operation)
        checked = validate(params, model.model.input_shape) if model is not None else params
        return await invoke(handler, checked)

    def shown(self, operation: str, result: dict[str, Any]) -> dict[str, Any]:
        """A handler's result as the API answers it: projected onto the operation's output shape (internal fields
        such as artifact folders are dropped), for the pages' "everything the API says" tables."""
        model = self.operations.get(operation)
        if model is None or model.model.output_shape is None:
            return result
        projected: dict[str, Any] = project(result, model.model.output_shape)
        return projected

    async def tags(self, arn: str) -> list[dict[str, str]]:
        """The resource's tags (ListTagsForResource), for the tags card of its page."""
        found: list[dict[str, str]] = (await self.call("ListTagsForResource", {"resourceArn": arn}))["tags"]
        return found

    async def list_all(self, operation: str, member: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            page = await self.call(operation, {**(params or {}), "maxResults": PAGE_SIZE,
                                               **({"nextToken": token} if token else {})})
            found.extend(page.get(member) or [])
            token = page.get("nextToken")
            if not token:
                break
        return found

    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        user = request.scope.get("console_user")
        here = _drop_flash(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        html = self.env.get_template(template).render(
            user=user, auth=self.settings.auth, error=request.query_params.get("error"),
            notice=request.query_params.get("notice"), here=here, **context)
        return HTMLResponse(html, status_code, headers={"Cache-Control": "no-store"})

    @staticmethod
    async def form(request: Request) -> dict[str, str]:
        """An url-encoded form body (the console's forms and htmx send nothing else)."""
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            raise InvalidInputException("The form is too large.")
        return {key: value.strip() for key, value in parse_qsl(body.decode("utf-8", "replace"),
                                                               keep_blank_values=True)}

    @staticmethod
    def back(path: str, **query: str) -> RedirectResponse:
        joiner = "&" if "?" in path else "?"
        return RedirectResponse(path + (joiner + urlencode(query) if query else ""), status_code=303)

    def page(self, endpoint: Endpoint) -> Endpoint:
        """Require a session; turn service errors into the page they came from with the message shown."""

        async def guarded(request: Request) -> Response:
            user = auth.signed_in_as(self.settings, request.cookies.get(auth.COOKIE))
            if user is None:
                wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                target = f"{PREFIX}/signin?{urlencode({'next': wanted})}"
                if request.headers.get("HX-Request"):
                    return Response(status_code=204, headers={"HX-Redirect": target})
                return RedirectResponse(target, status_code=303)
            request.scope["console_user"] = user
            started, cpu = time.perf_counter(), time.process_time()
            response = await self._answer(endpoint, request)
            # app: wall time in the console; cpu: the server process's CPU time meanwhile (all its threads, so it
            # is this request's own only when requests come one at a time, as in benchmarks/console.py)
            response.headers["Server-Timing"] = (f"app;dur={(time.perf_counter() - started) * 1000:.1f}, "
                                                 f"cpu;dur={(time.process_time() - cpu) * 1000:.1f}")
            return response

        return guarded

    async def _answer(self, endpoint: Endpoint, request: Request) -> Response:
        try:
            return await endpoint(request)
        except ServiceError as error:
            if request.method == "POST" and not request.headers.get("HX-Request"):
                referer = request.headers.get("referer", "")
                origin = f"{request.url.scheme}://{request.url.netloc}"
                path = referer[len(origin):] if referer.startswith(origin + PREFIX) else f"{PREFIX}/"
                path = _drop_flash(path)
                return self.back(path, error=f"{error.code}: {error.message}")
            return self.render(request, "error.html", 404 if isinstance(error, ResourceNotFoundException)
                               else 400, code=error.code, message=error.message)
        except Exception:
            log.exception("console page %s failed", request.url.path)
            return self.render(request, "error.html", 500, code="InternalFailure",
                               message="An internal error occurred; it has been logged.")

    # -- sign-in ------------------------------------------------------------------------------------------------

    async def signin_form(self, request: Request) -> Response:
        if auth.signed_in_as(self.settings, request.cookies.get(auth.COOKIE)) is not None:
            return self.back(_safe_next(request.query_params.get("next")))
        return self.render(request, "signin.html", next=_safe_next(request.query_params.get("next")), access_key="")

    async def signin(self, request: Request) -> Response:
        form = await self.form(request)
        access_key = form.get("access_key", "")
        if not auth.check_keys(self.settings, access_key, form.get("secret_key", "")):
            return self.render(request, "signin.html", 401, next=_safe_next(form.get("next")), access_key=access_key,
                               failed="The access key id or secret access key is not right.")
        response = self.back(_safe_next(form.get("next")))
        if self.settings.auth:
            response.set_cookie(auth.COOKIE, auth.session_cookie(self.settings, access_key),
                                max_age=auth.SESSION_SECONDS, path=PREFIX, httponly=True, samesite="lax",
                                secure=request.url.scheme == "https")
        return response

    async def signout(self, _request: Request) -> Response:
        response = self.back(f"{PREFIX}/signin")
        response.delete_cookie(auth.COOKIE, path=PREFIX)
        return response

    # -- dataset groups -----------------------------------------------------------------------------------------

    async def groups(self, request: Request) -> Response:
        groups = await self.list_all("ListDatasetGroups", "datasetGroups")
        return self.render(request, "groups.html", title="Dataset groups", groups=groups,
                           suggested=f"movies-{uuid.uuid4().hex[:6]}")

    async def create_group(self, request: Request) -> Response:
        form = await self.form(request)
        params: dict[str, Any] = {"name": form.get("name", "")}
        if form.get("domain"):
            params["domain"] = form["domain"]
        arn = (await self.call("CreateDatasetGroup", params))["datasetGroupArn"]
        return self.back(_link("group", arn), notice=f"Creating dataset group {params['name']}.")

    async def delete_group(self, request: Request) -> Response:
        form = await self.form(request)
        await self.call("DeleteDatasetGroup", {"datasetGroupArn": form.get("arn", "")})
        return self.back(f"{PREFIX}/", notice=f"Deleting dataset group {_short(form.get('arn'))}.")

    async def group(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        group = (await self.call("DescribeDatasetGroup", {"datasetGroupArn": arn}))["datasetGroup"]
        datasets = await self.list_all("ListDatasets", "datasets", {"datasetGroupArn": arn})
        imports: list[dict[str, Any]] = []
        for dataset in datasets:
            for job in await self.list_all("ListDatasetImportJobs", "datasetImportJobs",
                                           {"datasetArn": dataset["datasetArn"]}):
                imports.append({**job, "datasetName": dataset["name"]})
        solutions = await self.list_all("ListSolutions", "solutions", {"datasetGroupArn": arn})
        campaigns: list[dict[str, Any]] = []
        for solution in solutions:
            campaigns.extend(await self.list_all("ListCampaigns", "campaigns",
                                                 {"solutionArn": solution["solutionArn"]}))
        recipes = await self.list_all("ListRecipes", "recipes")
        present = {str(dataset.get("datasetType", "")).upper() for dataset in datasets}
        return self.render(
            request, "group.html", title=group["name"], group=group, datasets=datasets, imports=imports,
            tags=await self.tags(arn), tag_arn=arn,
            solutions=solutions, campaigns=campaigns,
            recommenders=await self.list_all("ListRecommenders", "recommenders", {"datasetGroupArn": arn}),
            filters=await self.list_all("ListFilters", "Filters", {"datasetGroupArn": arn}),
            trackers=await self.list_all("ListEventTrackers", "eventTrackers", {"datasetGroupArn": arn}),
            schemas=await self.list_all("ListSchemas", "schemas"),
            recipes=[recipe for recipe in recipes if not recipe.get("domain")],
            default_recipe=DEFAULT_RECIPE, templates=SCHEMA_TEMPLATES,
            templates_json=_json(SCHEMA_TEMPLATES),
            next_type=next((kind for kind in SCHEMA_TEMPLATES if kind.upper() not in present), "Interactions"),
            suffix=uuid.uuid4().hex[:6])

    # -- data sets and imports ----------------------------------------------------------------------------------

    async def create_dataset(self, request: Request) -> Response:
        form = await self.form(request)
        group_arn, dataset_type = form.get("datasetGroupArn", ""), form.get("datasetType", "Interactions")
        schema_arn = form.get("schemaArn", "")
        if not schema_arn:
            schema_name = form.get("schemaName") or f"{form.get('name', 'dataset')}-schema"
            params: dict[str, Any] = {"name": schema_name, "schema": form.get("schema", "")}
            group = (await self.call("DescribeDatasetGroup", {"datasetGroupArn": group_arn}))["datasetGroup"]
            if group.get("domain"):
                params["domain"] = group["domain"]
            schema_arn = (await self.call("CreateSchema", params))["schemaArn"]
        created = await self.call("CreateDataset", {"name": form.get("name", ""), "schemaArn": schema_arn,
                                                    "datasetGroupArn": group_arn, "datasetType": dataset_type})
        return self.back(_link("dataset", created["datasetArn"]), notice=f"Creating the {dataset_type} data set.")

    async def dataset(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        dataset = (await self.call("DescribeDataset", {"datasetArn": arn}))["dataset"]
        group = (await self.call("DescribeDatasetGroup", {"datasetGroupArn": dataset["datasetGroupArn"]}))[
            "datasetGroup"]
        imports = await self.list_all("ListDatasetImportJobs", "datasetImportJobs", {"datasetArn": arn})
        figures = await run_in_threadpool(self.reader.figures, arn)
        schemas = await self.list_all("ListSchemas", "schemas")
        return self.render(request, "dataset.html", title=dataset["name"], dataset=dataset, group=group,
                           tags=await self.tags(arn), tag_arn=arn,
                           imports=imports, figures=figures, charts_json=_json(figures["charts"]), schemas=schemas,
                           job_name=f"import-{uuid.uuid4().hex[:8]}")

    async def create_import(self, request: Request) -> Response:
        form = await self.form(request)
        dataset_arn = form.get("datasetArn", "")
        params: dict[str, Any] = {"jobName": form.get("jobName", ""), "datasetArn": dataset_arn,
                                  "dataSource": {"dataLocation": form.get("dataLocation", "")},
                                  "importMode": form.get("importMode") or "FULL"}
        await self.call("CreateDatasetImportJob", params)
        return self.back(_link("dataset", dataset_arn), notice=f"Import {params['jobName']} started.")

    async def status(self, request: Request) -> Response:
        """A status badge (htmx polls it every second while it may change; the page reloads once it is final)."""
        arn = request.query_params.get("arn", "")
        try:
            state = await self.call("JobProgress", {"arn": arn})
        except ResourceNotFoundException:
            state = {"arn": arn, "status": "DELETED", "stage": None, "percent": None}
        html = self.env.get_template("_status.html").render(state=state)
        live = is_live(state.get("status"))
        refresh = {} if live or not request.headers.get("HX-Request") else {"HX-Refresh": "true"}
        return HTMLResponse(html, headers={"Cache-Control": "no-store", **refresh})

    # -- solutions, versions, campaigns -------------------------------------------------------------------------

    async def create_solution(self, request: Request) -> Response:
        form = await self.form(request)
        params: dict[str, Any] = {"name": form.get("name", ""), "datasetGroupArn": form.get("datasetGroupArn", ""),
                                  "recipeArn": form.get("recipeArn") or DEFAULT_RECIPE,
                                  "performAutoTraining": False}
        arn = (await self.call("CreateSolution", params))["solutionArn"]
        return self.back(_link("solution", arn), notice=f"Creating solution {params['name']}.")

    async def solution(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        solution = (await self.call("DescribeSolution", {"solutionArn": arn}))["solution"]
        summaries = await self.list_all("ListSolutionVersions", "solutionVersions", {"solutionArn": arn})
        versions = [(await self.call("DescribeSolutionVersion", {"solutionVersionArn": summary[
            "solutionVersionArn"]}))["solutionVersion"] for summary in summaries]
        versions.sort(key=lambda version: version.get("creationDateTime") or 0, reverse=True)
        compared = []
        for version in (v for v in versions if v.get("status") == "ACTIVE"):
            metrics = (await self.call("GetSolutionMetrics", {"solutionVersionArn": version["solutionVersionArn"]}))[
                "metrics"]
            compared.append({"arn": version["solutionVersionArn"], "metrics": metrics})
            if len(compared) == RECENT_VERSIONS:
                break
        names = sorted({name for entry in compared for name in entry["metrics"] if not name.startswith("baseline_")})
        campaigns = await self.list_all("ListCampaigns", "campaigns", {"solutionArn": arn})
        chart = {}
        if compared and names:
            latest = compared[0]["metrics"]
            chart = {"labels": names, "model": [latest.get(name) for name in names],
                     "baseline": [latest.get(f"baseline_popularity_{name}") for name in names]}
        return self.render(request, "solution.html", title=solution["name"], solution=solution, versions=versions,
                           tags=await self.tags(arn), tag_arn=arn,
                           compared=compared, names=names, campaigns=campaigns,
                           chart_json=_json({"metrics": chart}),
                           campaign_name=f"{solution['name']}-campaign-{uuid.uuid4().hex[:4]}")

    async def create_version(self, request: Request) -> Response:
        form = await self.form(request)
        solution_arn = form.get("solutionArn", "")
        await self.call("CreateSolutionVersion", {"solutionArn": solution_arn,
                                                  "trainingMode": form.get("trainingMode") or "FULL"})
        return self.back(_link("solution", solution_arn), notice="Training a new solution version.")

    async def create_campaign(self, request: Request) -> Response:
        form = await self.form(request)
        params: dict[str, Any] = {"name": form.get("name", ""),
                                  "solutionVersionArn": form.get("solutionVersionArn", "")}
        if form.get("minProvisionedTPS"):
            try:
                params["minProvisionedTPS"] = int(form["minProvisionedTPS"])
            except ValueError:
                raise InvalidInputException("minProvisionedTPS must be a whole number.") from None
        arn = (await self.call("CreateCampaign", params))["campaignArn"]
        return self.back(_link("campaign", arn), notice=f"Deploying campaign {params['name']}.")

    async def campaign(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        result = await self.call("DescribeCampaign", {"campaignArn": arn})
        campaign = result["campaign"]
        solution_arn = str(campaign.get("solutionVersionArn", "")).rsplit("/", 1)[0]
        versions = [version for version in await self.list_all("ListSolutionVersions", "solutionVersions",
                                                                {"solutionArn": solution_arn})
                    if version.get("status") == "ACTIVE"] if solution_arn else []
        return await self._target_page(request, "campaign", campaign, arn, self.shown("DescribeCampaign", result)[
            "campaign"], versions=versions)

    async def recommender(self, request: Request) -> Response:
        arn = request.query_params.get("arn", "")
        result = await self.call("DescribeRecommender", {"recommenderArn": arn})
        recommender = result["recommender"]
        return await self._target_page(request, "recommender", recommender, arn,
                                       self.shown("DescribeRecommender", result)["recommender"], versions=[])

    async def _target_page(self, request: Request, kind: str, target: dict[str, Any], arn: str,
                           facts: dict[str, Any], versions: list[dict[str, Any]]) -> Response:
        group_arn = str(target.get("datasetGroupArn") or "")
        group = (await self.call("DescribeDatasetGroup", {"datasetGroupArn": group_arn}))["datasetGroup"] \
            if group_arn else None
        filters = [item for item in await self.list_all("ListFilters", "Filters", {"datasetGroupArn": group_arn})
                   if item.get("status") == "ACTIVE"] if group_arn else []
        spec = spec_for(str(target.get("recipeArn", "")))
        config = target.get("campaignConfig") or target.get("recommenderConfig") or {}
        return self.render(request, "target.html", title=target["name"], kind=kind, target=target, arn=arn,
                           group_arn=group_arn, group=group, section="recommenders" if kind == "recommender" else "",
                           example=await self._example(target), spec=spec, use=spec.use if spec else "user",
                           requires=spec.requires if spec and kind == "recommender" else (),
                           filters=filters, versions=versions, config=config, facts=facts,
                           tags=await self.tags(arn), tag_arn=arn)

    async def _example(self, target: dict[str, Any]) -> dict[str, str]:
        """A user and an item of the group's interactions, to prefill the try-it forms."""
        group_arn = target.get("datasetGroupArn")
        if not group_arn:
            return {"user": "", "item": ""}
        rows = await run_in_threadpool(self.reader.sample_interaction, str(group_arn))
        return rows

    def _deployment(self, arn: str) -> Deployment | None:
        """The model answering for an ACTIVE campaign or recommender (the runtime's own loaded copy), read-only."""
        with self.ctx.store.reading() as tx:
            resource = tx.get_resource(arn)
        if resource is None or resource.status != "ACTIVE" or not resource.body.get("artifact"):
            return None
        return self.ctx.deployments.get(resource.body["recipeArn"], resource.body["artifact"])

    async def try_it(self, request: Request) -> Response:
        """The try-it panel's answer, an htmx fragment: recommendations for a user (each with the history item that
        explains it, beside the user's history), items similar to an item, a ranking, or next best actions."""
        form = await self.form(request)
        kind, arn = form.get("kind", "campaign"), form.get("arn", "")
        mode = form.get("mode") or ("similar" if form.get("itemId") and not form.get("userId") else "recommend")
        member = "recommenderArn" if kind == "recommender" else "campaignArn"
        describe = "DescribeRecommender" if kind == "recommender" else "DescribeCampaign"
        target = (await self.call(describe, {member: arn}))["recommender" if kind == "recommender" else "campaign"]
        group_arn = str(target.get("datasetGroupArn", ""))
        spec = spec_for(str(target.get("recipeArn", "")))
        user_id, item_id = form.get("userId", ""), form.get("itemId", "")
        params: dict[str, Any] = {member: arn}
        for key, value in (("userId", user_id), ("itemId", item_id), ("filterArn", form.get("filterArn", ""))):
            if value:
                params[key] = value
        answer: dict[str, Any] = {"failed": None, "items": [], "history": [], "user_id": user_id, "item_id": item_id,
                                  "seed": {}, "mode": mode, "source": "api", "actions": []}
        try:
            if mode == "rank":
                wanted = [part for part in re.split(r"[\s,]+", form.get("inputList", "")) if part]
                params.pop("itemId", None)
                answer["items"] = (await self.call("GetPersonalizedRanking", {**params, "inputList": wanted}))[
                    "personalizedRanking"]
            elif mode == "actions":
                params["numResults"] = min(_count(form.get("numResults")), 100)
                answer["actions"] = (await self.call("GetActionRecommendations", params))["actionList"]
            elif mode == "similar" and (spec is None or spec.use != "related"):
                if not item_id:
                    raise InvalidInputException("Give an item id.")
                deployment = await run_in_threadpool(self._deployment, arn)
                found = (await run_in_threadpool(similar_items, deployment, item_id, _count(form.get("numResults")))
                         if deployment is not None else None)
                if found is None:
                    raise InvalidInputException(f"The {kind}'s model ({_short(target.get('recipeArn'))}) has no "
                                                "item-item similarity: ask a SIMS or more-like-X campaign instead.")
                answer.update(items=found, source="model")
            else:
                if not user_id and not item_id:
                    raise InvalidInputException("Give a user id or an item id.")
                params["numResults"] = _count(form.get("numResults"))
                answer["items"] = (await self.call("GetRecommendations", params))["itemList"]
        except ServiceError as error:
            answer["failed"] = f"{error.code}: {error.message}"
            return self.render(request, "_try.html", **answer)
        if user_id and mode in ("recommend", "rank"):
            answer["history"] = await run_in_threadpool(self._history, group_arn, user_id)
            deployment = await run_in_threadpool(self._deployment, arn)
            if deployment is not None:
                pairs = self.ctx.histories.events_of(group_arn, user_id)
                reasons = await run_in_threadpool(explain, deployment, pairs,
                                                  [item["itemId"] for item in answer["items"]])
                for item in answer["items"]:
                    because = reasons.get(item["itemId"])
                    if because is not None:
                        item["because"] = {"itemId": because.item_id, "verb": _verb(because.event_type)}
        wanted_ids = [item["itemId"] for item in answer["items"]] + [row["ITEM_ID"] for row in answer["history"]
                                                                     if row.get("ITEM_ID")]
        wanted_ids += [item["because"]["itemId"] for item in answer["items"] if "because" in item]
        if item_id:
            wanted_ids.append(item_id)
        details = await run_in_threadpool(self.reader.item_details, group_arn, wanted_ids)
        for entry in [*answer["items"], *answer["history"]]:
            entry["details"] = details.get(str(entry.get("itemId") or entry.get("ITEM_ID")), {})
            if "because" in entry:
                entry["because"]["title"] = details.get(entry["because"]["itemId"], {}).get("title", "")
        answer["seed"] = details.get(item_id, {}) if item_id else {}
        return self.render(request, "_try.html", **answer)

    def _history(self, group_arn: str, user_id: str) -> list[dict[str, Any]]:
        """The user's newest events: those sent with PutEvents (marked live), then the imported interactions."""
        sent = [{"ITEM_ID": row["itemId"], "EVENT_TYPE": row["eventType"], "when": row["when"][:16], "live": True}
                for row in live.latest_events(self.ctx, group_arn, HISTORY_ROWS, user_id) if row["itemId"]]
        imported = self.reader.recent_history(group_arn, user_id, HISTORY_ROWS)
        return (sent + imported)[:HISTORY_ROWS]


_VERBS = {"watch": "watched", "view": "viewed", "click": "clicked", "purchase": "bought", "like": "liked",
          "rating": "rated", "rate": "rated", "play": "played", "add-to-cart": "added to your cart"}


def _verb(event_type: str) -> str:
    return _VERBS.get(event_type.lower(), "interacted with")


def _json(value: Any) -> str:
    """JSON to place inside a <script type="application/json"> element (so it cannot close the element)."""
    return orjson.dumps(value).decode().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _count(text: str | None) -> int:
    try:
        return max(1, min(100, int(text or 10)))
    except ValueError:
        return 10


def _safe_next(target: str | None) -> str:
    """Only redirect inside the console after signing in."""
    if target and target.startswith(PREFIX) and not target.startswith("//") and "\\" not in target:
        return target.rstrip("?")
    return f"{PREFIX}/"


def _drop_flash(path: str) -> str:
    if "?" not in path:
        return path
    base, query = path.split("?", 1)
    kept = [(key, value) for key, value in parse_qsl(query, keep_blank_values=True) if key not in ("error", "notice")]
    return base + ("?" + "&".join(f"{quote(key)}={quote(value, safe='')}" for key, value in kept) if kept else "")
