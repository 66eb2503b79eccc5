"""The `reelrank` command line."""

from __future__ import annotations

import dataclasses
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from reelrank import __version__
from reelrank.config import DEMO_ACCESS_KEY, DEMO_SECRET_KEY, Quotas, Settings

console = Console()


def _quotas(values: tuple[str, ...]) -> Quotas:
    known = {field.name for field in dataclasses.fields(Quotas)}
    changes: dict[str, int] = {}
    for value in values:
        name, _, number = value.partition("=")
        if name not in known or not number.isdigit():
            raise click.BadParameter(f"{value!r}: expected NAME=INTEGER with NAME one of {', '.join(sorted(known))}",
                                     param_hint="--quota")
        changes[name] = int(number)
    return Quotas(**changes)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reelrank")
def main() -> None:
    """reelrank: the self-hosted Amazon Personalize. Point boto3's endpoint_url at `reelrank serve`."""


def server_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options shared by `serve` and `demo`."""
    options = [
        click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on."),
        click.option("--port", default=8080, show_default=True, type=int),
        click.option("--data-dir", default="data", show_default=True, type=click.Path(path_type=Path),
                     help="Where metadata (SQLite) and data sets (Parquet) live."),
        click.option("--metadata-url", default=None,
                     help="SQLAlchemy URL of the metadata store (default: SQLite in --data-dir)."),
        click.option("--access-key", default=DEMO_ACCESS_KEY, show_default=True,
                     help="Access key id callers sign with."),
        click.option("--secret-key", default=DEMO_SECRET_KEY, help="Secret access key for --access-key."),
        click.option("--no-auth", is_flag=True, help="Accept unsigned requests (local experiments only)."),
        click.option("--region", default="us-east-1", show_default=True),
        click.option("--account", default="000000000000", show_default=True),
        click.option("--import-root", multiple=True, type=click.Path(path_type=Path),
                     help="A local folder that file:// imports and exports may use (repeatable)."),
        click.option("--quota", multiple=True,
                     help="Raise or lower a quota, e.g. --quota dataset_groups=20 (repeatable)."),
        click.option("--workers", "max_jobs", default=2, show_default=True,
                     help="Background jobs run at once (0 holds them queued; quick state changes still run)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _settings(data_dir: Path, metadata_url: str | None, access_key: str, secret_key: str, no_auth: bool,
              region: str, account: str, import_root: tuple[Path, ...], quota: tuple[str, ...],
              max_jobs: int) -> Settings:
    return Settings(data_dir=data_dir, metadata_url=metadata_url, region=region, account=account,
                    credentials={access_key: secret_key}, auth=not no_auth, import_roots=import_root,
                    quotas=_quotas(quota), max_concurrent_jobs=max_jobs)


def _announce(settings: Settings, endpoint: str, access_key: str, secret_key: str) -> None:
    console.print(f"[bold]reelrank {__version__}[/bold] serving Personalize on [cyan]{endpoint}[/cyan]")
    console.print(f"  web console: [cyan]{endpoint}/console[/cyan]")
    if settings.auth:
        console.print(f"  access key: [green]{access_key}[/green]  secret key: [green]{secret_key}[/green]",
                      soft_wrap=True)
    else:
        console.print("  [yellow]authentication is off (--no-auth): for local experiments only[/yellow]")
    console.print(f"  data: {settings.data_dir.resolve()}  import roots: "
                  f"{', '.join(str(root) for root in settings.allowed_roots())}", soft_wrap=True)


def _server(settings: Settings, host: str, port: int) -> Any:
    from reelrank.server import uvicorn_server

    return uvicorn_server(settings, host, port)


@main.command(short_help="Start the server: control plane, runtime and events on one port.")
@server_options
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes sharing the port (e.g. one per core); the first also runs the jobs.")
def serve(host: str, port: int, data_dir: Path, metadata_url: str | None, access_key: str, secret_key: str,
          no_auth: bool, region: str, account: str, import_root: tuple[Path, ...], quota: tuple[str, ...],
          max_jobs: int, processes: int) -> None:
    """Start the server: control plane, runtime and events on one port."""
    from reelrank.server import serve as run_server

    settings = _settings(data_dir, metadata_url, access_key, secret_key, no_auth, region, account, import_root,
                         quota, max_jobs)
    _announce(settings, f"http://{host}:{port}", access_key, secret_key)
    run_server(settings, host, port, processes)


@main.command(short_help="Start a server with a demo catalogue or your MovieLens copy.")
@server_options
@click.option("--users", default=2000, show_default=True, help="Users in the generated catalogue.")
@click.option("--items", default=1000, show_default=True, help="Movies in the generated catalogue.")
@click.option("--interactions", default=100_000, show_default=True, help="Interactions to generate.")
@click.option("--movielens", "movielens_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Load this MovieLens folder (ml-latest-small or ml-1m) instead of a generated catalogue.")
@click.option("--once", is_flag=True, help="Stop the server after loading instead of serving on.")
@click.option("--data-only", is_flag=True, help="Only load the catalogue: no training, campaign or recommender.")
def demo(host: str, port: int, data_dir: Path, metadata_url: str | None, access_key: str, secret_key: str,
         no_auth: bool, region: str, account: str, import_root: tuple[Path, ...], quota: tuple[str, ...],
         max_jobs: int, users: int, items: int, interactions: int, movielens_dir: Path | None, once: bool,
         data_only: bool) -> None:
    """Start a server, load a generated movie catalogue (or a MovieLens folder) through the public API, train,
    deploy and recommend.

    \b
    reelrank demo                                   # a generated catalogue
    reelrank demo --movielens ~/data/ml-latest-small # your MovieLens copy (ml-latest-small or ml-1m)
    """
    from reelrank import movielens
    from reelrank.client import Endpoint
    from reelrank.demo import (
        GROUP_NAME,
        DemoSizes,
        deploy,
        load_catalogue,
        load_movielens,
        movielens_group_name,
        personalize_client,
    )

    if movielens_dir is not None:
        try:
            movielens.layout(movielens_dir)
        except movielens.NotMovieLens as error:
            raise click.BadParameter(str(error), param_hint="--movielens") from None
    settings = _settings(data_dir, metadata_url, access_key, secret_key, no_auth, region, account, import_root,
                         quota, max_jobs)
    server = _server(settings, host, port)
    endpoint = f"http://{host}:{port}"
    failures: list[BaseException] = []

    def report(line: str) -> None:
        console.print(f"  {line}", soft_wrap=True)

    def load() -> None:
        while not server.started:
            time.sleep(0.05)
        try:
            client = personalize_client(endpoint, access_key, secret_key, region)
            imports = settings.data_dir / "imports"
            if movielens_dir is not None:
                result = load_movielens(client, movielens_dir, imports, report=report)
            else:
                result = load_catalogue(client, imports, DemoSizes(users, items, interactions), report=report)
            table = Table("dataset", "rows", "ARN", title="Loaded through the public API")
            for dataset_type, arn in result.datasets.items():
                table.add_row(dataset_type, str(result.rows.get(dataset_type, "")), arn)
            console.print(table)
            console.print(f"Dataset group: [cyan]{result.dataset_group_arn}[/cyan]", soft_wrap=True)
            if not data_only:
                endpoint_ = Endpoint(endpoint, access_key, secret_key, region)
                # The generated catalogue's user u1 and movies m1..m3, or MovieLens's first user and movies.
                prefix, user = GROUP_NAME, "u1"
                watched: tuple[str, ...] = ("m1", "m2", "m3")
                if movielens_dir is not None:
                    prefix = movielens_group_name(movielens_dir)
                    user, watched = movielens.sample(movielens_dir)
                deployed = deploy(client, endpoint_.client("personalize-events"), result.dataset_group_arn,
                                  report=report, prefix=prefix, user=user, watched=watched)
                _show_demo(endpoint_, deployed)
            console.print(f"Try it:\n  reelrank status --endpoint-url {endpoint}\n"
                          f"  aws personalize list-datasets --endpoint-url {endpoint} "
                          f"--dataset-group-arn {result.dataset_group_arn}", soft_wrap=True)
        except Exception as error:
            failures.append(error)
            console.print(f"[red]demo failed:[/red] {error}")
        finally:
            if once or failures:
                server.should_exit = True

    _announce(settings, endpoint, access_key, secret_key)
    threading.Thread(target=load, name="reelrank-demo-loader", daemon=True).start()
    server.run()
    if failures:
        raise SystemExit(1)
# ---------------------------------------------------------------------------------------------------------
# Client commands: they talk to a running server through the public API and the progress extension only.
# ---------------------------------------------------------------------------------------------------------

POLL_SECONDS = 0.3
ROLE_ARN = "arn:aws:iam::000000000000:role/reelrank-batch"
_AUTH_ERRORS = ("UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignatureException",
                "MissingAuthenticationTokenException", "SignatureDoesNotMatch", "InvalidClientTokenId")


class CommandError(click.ClickException):
    """An error printed as `Error: …` with a `Hint: …` line saying what to do about it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def format_message(self) -> str:
        return self.message + (f"\nHint: {self.hint}" if self.hint else "")


def endpoint_options(command: Callable[..., None]) -> Callable[..., None]:
    """Where a client command sends its requests, and how it prints its result."""
    options = [
        click.option("--endpoint-url", default="http://127.0.0.1:8080", show_default=True,
                     envvar="REELRANK_ENDPOINT", help="The reelrank server (env: REELRANK_ENDPOINT)."),
        click.option("--access-key", default=DEMO_ACCESS_KEY, show_default=True,
                     envvar=["REELRANK_ACCESS_KEY", "AWS_ACCESS_KEY_ID"],
                     help="Access key id to sign with (env: REELRANK_ACCESS_KEY, AWS_ACCESS_KEY_ID)."),
        click.option("--secret-key", default=DEMO_SECRET_KEY, envvar=["REELRANK_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"],
                     help="Secret key of --access-key (env: REELRANK_SECRET_KEY, AWS_SECRET_ACCESS_KEY)."),
        click.option("--region", default="us-east-1", show_default=True, envvar="REELRANK_REGION"),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for scripts)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _endpoint(endpoint_url: str, access_key: str, secret_key: str, region: str) -> Any:
    from reelrank.client import Endpoint

    return Endpoint(endpoint_url.rstrip("/"), access_key, secret_key, region)


def _hint(code: str, message: str, endpoint_url: str, listing: str) -> str | None:
    if code == "ResourceNotFoundException":
        return f"check the ARN; {listing}"
    if code in _AUTH_ERRORS:
        return ("sign with the key pair `reelrank serve` printed at start-up: --access-key and --secret-key "
                "(or REELRANK_ACCESS_KEY and REELRANK_SECRET_KEY).")
    if "import roots" in message:
        return ("put the file under the server's data directory (<data-dir>/imports is always allowed), or restart "
                "the server with `reelrank serve --import-root <folder>`.")
    if "enableMetadataWithRecommendations" in message:
        return "redeploy with metadata allowed: `reelrank deploy <solution ARN>` (metadata is on unless --no-metadata)."
    if code == "ResourceInUseException":
        return "wait until it is ACTIVE and nothing else runs on it; `reelrank status` shows what is running."
    if code == "LimitExceededException":
        return "wait for running jobs to finish, or raise the quota with `reelrank serve --quota NAME=N`."
    if code == "ResourceAlreadyExistsException":
        return "pick another --name."
    return None


@contextmanager
def _talking_to(endpoint_url: str, listing: str = "see what exists with `reelrank status`.") -> Iterator[None]:
    """Turn what can go wrong on the wire into one clear error with a hint."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError

    from reelrank.client import LookupFailed, ProgressError

    try:
        yield
    except LookupFailed as failure:
        raise CommandError(str(failure), failure.hint) from None
    except (BotoConnectionError, HTTPClientError) as error:
        raise CommandError(f"Cannot reach reelrank at {endpoint_url} ({type(error).__name__}).",
                           f"is `reelrank serve` running at {endpoint_url}? Start it, or point --endpoint-url "
                           "(or REELRANK_ENDPOINT) at your server.") from None
    except ClientError as error:
        code, message = error.response["Error"].get("Code", "Error"), error.response["Error"].get("Message", "")
        raise CommandError(f"{code}: {message}", _hint(code, message, endpoint_url, listing)) from None
    except ProgressError as error:
        raise CommandError(str(error), _hint(error.code, error.message, endpoint_url, listing)) from None


def _print_json(value: Any) -> None:
    from reelrank.client import plain

    click.echo(orjson.dumps(plain(value), option=orjson.OPT_INDENT_2).decode())


def _duration(seconds: float) -> str:
    whole = max(round(seconds), 0)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _rows_detail(state: dict[str, Any]) -> str:
    """`12,000 rows · 5,300 rows/s · ETA 0:00:04` from the progress answer, when the server counts rows."""
    parts = []
    if state.get("rowsDone") is not None:
        parts.append(f"{state['rowsDone']:,} rows")
    if state.get("rowsPerSecond") is not None:
        parts.append(f"{state['rowsPerSecond']:,.0f} rows/s")
    if state.get("etaSeconds") is not None and state["status"] not in ("ACTIVE", "COMPLETED"):
        parts.append(f"ETA {_duration(state['etaSeconds'])}")
    return " · ".join(parts)


def _follow(endpoint: Any, arn: str, what: str, as_json: bool) -> dict[str, Any]:
    """Poll the progress extension until `arn` stops running, with a progress bar (none with --json)."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from reelrank.client import is_running

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=24), TaskProgressColumn(),
               TextColumn("{task.fields[detail]}"), TimeElapsedColumn())
    try:
        state: dict[str, Any] = endpoint.progress(arn)
        with Progress(*columns, console=console, disable=as_json) as bar:
            task = bar.add_task(what, total=100, detail="")
            while is_running(state["status"]):
                detail = _rows_detail(state)  # rows done, rows/s and ETA say more than the stage when counted
                stage = state.get("stage") or state["status"].lower()
                bar.update(task, completed=state.get("percent") or 0,
                           description=what if detail else f"{what}: {stage}", detail=detail)
                time.sleep(POLL_SECONDS)
                state = endpoint.progress(arn)
            finished = state["status"] in ("ACTIVE", "COMPLETED")
            bar.update(task, completed=100 if finished else state.get("percent") or 0,
                       description=f"{what}: {state['status'].lower()}", detail=_rows_detail(state))
    except KeyboardInterrupt:
        raise CommandError(f"Stopped waiting; {arn} carries on on the server.",
                           "follow it with `reelrank status`.") from None
    return state


def _job_name(kind: str, source: str) -> str:
    """`import-ratings-20240101-120000-3f2a`: names match [a-zA-Z0-9][a-zA-Z0-9-_]* and fit in 63 characters."""
    stem = re.sub(r"[^a-zA-Z0-9_-]+", "-", Path(source.rstrip("/")).stem).strip("-_")[:30]
    return "-".join(part for part in (kind, stem, time.strftime("%Y%m%d-%H%M%S"), secrets.token_hex(2)) if part)


def _local(where: str) -> Path | None:
    """The local path behind a path or a file:// URI; None for s3://."""
    if where.startswith("s3://"):
        return None
    if where.startswith("file://"):
        from urllib.parse import unquote, urlsplit

        return Path(unquote(urlsplit(where).path))
    return Path(where).expanduser()


@main.command(short_help="Train a solution version, with a progress bar.")
@click.argument("solution_arn")
@click.option("--mode", type=click.Choice(["FULL", "UPDATE"]), default="FULL", show_default=True)
@click.option("--no-wait", is_flag=True, help="Start training and return at once.")
@endpoint_options
def train(solution_arn: str, mode: str, no_wait: bool, endpoint_url: str, access_key: str, secret_key: str,
          region: str, as_json: bool) -> None:
    """Train a new solution version of SOLUTION_ARN, showing its progress and then its metrics.

    \b
    reelrank train arn:aws:personalize:us-east-1:000000000000:solution/movies
    """
    from botocore.exceptions import ClientError

    endpoint = _endpoint(endpoint_url, access_key, secret_key, region)
    listing = "list the solutions with `reelrank status`."
    with _talking_to(endpoint_url, listing):
        personalize = endpoint.client()
        try:
            arn = personalize.create_solution_version(solutionArn=solution_arn,
                                                      trainingMode=mode)["solutionVersionArn"]
        except ClientError as error:
            code, message = error.response["Error"].get("Code", "Error"), error.response["Error"].get("Message", "")
            raise CommandError(f"{code}: {message}", _hint(code, message, endpoint_url, listing) or (
                f"is the solution ACTIVE? `aws personalize describe-solution --solution-arn {solution_arn} "
                f"--endpoint-url {endpoint_url}`")) from None
        state = endpoint.progress(arn) if no_wait else _follow(endpoint, arn, "training", as_json)
        if state["status"] == "ACTIVE":
            state["metrics"] = personalize.get_solution_metrics(solutionVersionArn=arn)["metrics"]
    if as_json:
        _print_json(state)
    else:
        _show_version(state)
        if state["status"] == "ACTIVE":
            console.print(f"Deploy it: [bold]reelrank deploy {arn}[/bold]", soft_wrap=True)
    if state["status"] == "CREATE FAILED":
        raise SystemExit(1)


def _show_version(state: dict[str, Any]) -> None:
    console.print(f"{state['arn']}: [bold]{state['status']}[/bold]", soft_wrap=True)
    if state.get("failureReason"):
        console.print(f"[red]{state['failureReason']}[/red]", soft_wrap=True)
    metrics = state.get("metrics") or {}
    if metrics:
        table = Table("metric", "model", "most-popular baseline")
        for key in sorted(k for k in metrics if not k.startswith("baseline_")):
            baseline = metrics.get(f"baseline_popularity_{key}")
            table.add_row(key, f"{metrics[key]:.4f}", "" if baseline is None else f"{baseline:.4f}")
        console.print(table)


def _show_demo(endpoint: Any, deployed: Any) -> None:
    table = Table("recipe", "NDCG@10", "most-popular NDCG@10", "precision@10", title="Offline metrics")
    for recipe, metrics in deployed.metrics.items():
        table.add_row(recipe, f"{metrics['normalized_discounted_cumulative_gain_at_10']:.4f}",
                      f"{metrics['baseline_popularity_normalized_discounted_cumulative_gain_at_10']:.4f}",
                      f"{metrics['precision_at_10']:.4f}")
    console.print(table)
    runtime = endpoint.client("personalize-runtime")
    columns = {"ITEMS": ["TITLE", "GENRES"]}
    user = deployed.user
    who = f"user {user}" if user.isdigit() else user
    for title, target in ((f"Top picks for {who} (VOD recommender)", {"recommenderArn": deployed.recommender_arn}),
                          (f"Recommended for {who} (campaign, aws-user-personalization)",
                           {"campaignArn": deployed.campaign_arn})):
        items = runtime.get_recommendations(userId=user, numResults=5, metadataColumns=columns, **target)["itemList"]
        listing = Table("item", "title", "genres", "score", title=title, min_width=len(title))
        for item in items:
            metadata = item.get("metadata", {})
            listing.add_row(item["itemId"], metadata.get("TITLE", ""), metadata.get("GENRES", ""),
                            f"{item['score']:.4f}" if "score" in item else "")
        console.print(listing)
    console.print(f"Campaign: [cyan]{deployed.campaign_arn}[/cyan]\nRecommender: [cyan]{deployed.recommender_arn}"
                  "[/cyan]", soft_wrap=True)
    console.print(f"Ask again: reelrank recommend {deployed.campaign_arn} --user {user} --metadata TITLE,GENRES",
                  soft_wrap=True)


@main.command("import", short_help="Import a CSV into a dataset, with a progress bar.")
@click.argument("source")
@click.option("--dataset-arn", help="The dataset to import into.")
@click.option("--dataset-group", "group", help="Name or ARN of the dataset group (with --type).")
@click.option("--type", "dataset_type", type=click.Choice(
    ["INTERACTIONS", "ITEMS", "USERS", "ACTIONS", "ACTION_INTERACTIONS"], case_sensitive=False),
    help="Which dataset of --dataset-group.")
@click.option("--mode", type=click.Choice(["FULL", "INCREMENTAL"], case_sensitive=False), default="FULL",
              show_default=True, help="FULL replaces the data; INCREMENTAL adds to it.")
@click.option("--name", "job_name", help="Import job name (default: import-<file>-<time>).")
@click.option("--no-wait", is_flag=True, help="Start the import and return at once.")
@endpoint_options
def import_command(source: str, dataset_arn: str | None, group: str | None, dataset_type: str | None, mode: str,
                   job_name: str | None, no_wait: bool, endpoint_url: str, access_key: str, secret_key: str,
                   region: str, as_json: bool) -> None:
    """Import a CSV file into a dataset: SOURCE is a local file or folder, file://… or s3://bucket/key.

    \b
    reelrank import ratings.csv --dataset-group movies --type INTERACTIONS
    reelrank import s3://bucket/items.csv --dataset-arn arn:aws:personalize:…:dataset/movies/ITEMS
    """
    from reelrank.client import count_csv_records, dataset_group, dataset_of_type, location_uri

    if dataset_arn is None and (group is None or dataset_type is None):
        raise click.UsageError("Say which dataset: --dataset-arn ARN, or --dataset-group NAME --type INTERACTIONS.")
    local = _local(source)
    if local is not None and not local.exists():
        raise click.BadParameter(f"{local} does not exist.", param_hint="SOURCE")
    endpoint = _endpoint(endpoint_url, access_key, secret_key, region)
    with _talking_to(endpoint_url, "list the datasets with `reelrank status`."):
        personalize = endpoint.client()
        if dataset_arn is None:
            assert group is not None and dataset_type is not None
            dataset_arn = dataset_of_type(personalize, dataset_group(personalize, group)["datasetGroupArn"],
                                          dataset_type)
        uri = location_uri(source)
        job_arn = personalize.create_dataset_import_job(
            jobName=job_name or _job_name("import", source), datasetArn=dataset_arn, importMode=mode.upper(),
            dataSource={"dataLocation": uri})["datasetImportJobArn"]
        state = endpoint.progress(job_arn) if no_wait else _follow(endpoint, job_arn, "importing", as_json)
    rows = state.get("rowsDone")
    if rows is None and state["status"] == "ACTIVE" and local is not None:
        rows = count_csv_records(local)
    result = {"datasetImportJobArn": job_arn, "datasetArn": dataset_arn, "dataLocation": uri,
              "status": state["status"], "rows": rows, "failureReason": state.get("failureReason")}
    counted = "" if rows is None else f"{rows:,} rows "
    _report_job(result, as_json, f"[green]Imported[/green] {counted}into {dataset_arn}", "Import")


@main.command(short_help="Create or update a campaign and wait until ACTIVE.")
@click.argument("arn")
@click.option("--name", help="Campaign name. Default: the solution's only campaign, or a new one named after it.")
@click.option("--min-tps", default=1, show_default=True, type=click.IntRange(min=1),
              help="minProvisionedTPS of the campaign.")
@click.option("--metadata/--no-metadata", default=True, show_default=True,
              help="Allow item metadata in recommendations (enableMetadataWithRecommendations).")
@click.option("--no-wait", is_flag=True, help="Start the deployment and return at once.")
@endpoint_options
def deploy(arn: str, name: str | None, min_tps: int, metadata: bool, no_wait: bool, endpoint_url: str,
           access_key: str, secret_key: str, region: str, as_json: bool) -> None:
    """Deploy a solution version to a campaign, creating it or updating it, and wait until it is ACTIVE.

    ARN is a solution version, or a solution (its latest ACTIVE version is deployed).

    \b
    reelrank deploy arn:aws:personalize:us-east-1:000000000000:solution/movies
    reelrank deploy arn:aws:personalize:us-east-1:000000000000:solution/movies/3f2a9c1e --name movies-live
    """
    from reelrank.client import pages, solution_of, solution_version

    endpoint = _endpoint(endpoint_url, access_key, secret_key, region)
    with _talking_to(endpoint_url, "list solutions and campaigns with `reelrank status`."):
        personalize = endpoint.client()
        version = solution_version(personalize, arn)
        solution_arn = solution_of(version)
        if name is not None:
            matches = [c for c in pages(personalize, "list_campaigns", "campaigns") if c["name"] == name]
        else:
            matches = list(pages(personalize, "list_campaigns", "campaigns", solutionArn=solution_arn))
            if len(matches) > 1:
                names = ", ".join(sorted(c["name"] for c in matches))
                raise CommandError(f"The solution {solution_arn} has {len(matches)} campaigns ({names}).",
                                   "say which one to update with --name.")
        config: dict[str, Any] = {"enableMetadataWithRecommendations": metadata}
        if matches:
            campaign = personalize.describe_campaign(campaignArn=matches[0]["campaignArn"])["campaign"]
            campaign_arn = campaign["campaignArn"]
            config = {**campaign.get("campaignConfig", {}), **config}
            unchanged = (campaign.get("solutionVersionArn") == version and campaign.get("campaignConfig") == config
                         and campaign.get("minProvisionedTPS") == min_tps and campaign["status"] == "ACTIVE")
            action = "unchanged" if unchanged else "updated"
            if not unchanged:
                personalize.update_campaign(campaignArn=campaign_arn, solutionVersionArn=version,
                                            minProvisionedTPS=min_tps, campaignConfig=config)
        else:
            action = "created"
            campaign_arn = personalize.create_campaign(
                name=name or solution_arn.rsplit("/", 1)[-1], solutionVersionArn=version, minProvisionedTPS=min_tps,
                campaignConfig=config)["campaignArn"]
        state = endpoint.progress(campaign_arn) if no_wait else _follow(endpoint, campaign_arn, "deploying", as_json)
    result = {"campaignArn": campaign_arn, "action": action, "solutionVersionArn": version, "status": state["status"],
              "failureReason": state.get("failureReason")}
    failed = "FAILED" in state["status"]
    if as_json:
        _print_json(result)
    elif failed:
        console.print(f"[red]Deployment failed[/red]: {campaign_arn}\n{state.get('failureReason')}", soft_wrap=True)
    else:
        console.print(f"Campaign {action}: [cyan]{campaign_arn}[/cyan] ({state['status']})\n  serving {version}",
                      soft_wrap=True)
        console.print(f"Try it: reelrank recommend {campaign_arn} --user <USER_ID>", soft_wrap=True)
    if failed:
        raise SystemExit(1)


def _filter_values(values: tuple[str, ...]) -> dict[str, str]:
    """`GENRES=Comedy,Drama` → {"GENRES": '"Comedy","Drama"'}; a value already in quotes is passed as it is."""
    parsed: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r}: expected KEY=VALUE, e.g. GENRES=Comedy,Drama",
                                     param_hint="--filter-value")
        parsed[key] = text if text.startswith('"') else ",".join(f'"{part}"' for part in text.split(","))
    return parsed


@main.command(short_help="Recommendations for a user or an item.")
@click.argument("arn")
@click.option("--user", "user_id", help="The user to recommend for.")
@click.option("--item", "item_id", help="The item to recommend related items for.")
@click.option("--num", default=10, show_default=True, type=click.IntRange(1, 500), help="How many items.")
@click.option("--filter", "filter_arn", help="A filter ARN.")
@click.option("--filter-value", multiple=True,
              help="KEY=VALUE for the filter's $KEY placeholder; a,b means \"a\",\"b\" (repeatable).")
@click.option("--metadata", "columns", help="Item columns to return and show, e.g. TITLE,GENRES.")
@endpoint_options
def recommend(arn: str, user_id: str | None, item_id: str | None, num: int, filter_arn: str | None,
              filter_value: tuple[str, ...], columns: str | None, endpoint_url: str, access_key: str,
              secret_key: str, region: str, as_json: bool) -> None:
    """Ask a campaign or recommender (ARN) for recommendations for a user or an item.

    \b
    reelrank recommend arn:aws:personalize:us-east-1:000000000000:campaign/movies --user 42 --metadata TITLE,GENRES
    reelrank recommend arn:…:recommender/top-picks --user 42 --filter arn:…:filter/genre --filter-value GENRE=Comedy
    """
    from reelrank.client import plain, resource_type

    target = {"campaign": "campaignArn", "recommender": "recommenderArn"}.get(resource_type(arn))
    if target is None:
        raise CommandError(f"{arn} is neither a campaign nor a recommender ARN.",
                           "`reelrank status` lists the campaigns and recommenders.")
    params: dict[str, Any] = {target: arn, "numResults": num}
    if user_id is not None:
        params["userId"] = user_id
    if item_id is not None:
        params["itemId"] = item_id
    if filter_arn is not None:
        params["filterArn"] = filter_arn
    if filter_value:
        params["filterValues"] = _filter_values(filter_value)
    names = [column.strip() for column in (columns or "").split(",") if column.strip()]
    if names:
        params["metadataColumns"] = {"ITEMS": names}
    endpoint = _endpoint(endpoint_url, access_key, secret_key, region)
    with _talking_to(endpoint_url, "`reelrank status` lists the campaigns and recommenders."):
        response = plain(endpoint.client("personalize-runtime").get_recommendations(**params))
    if as_json:
        _print_json(response)
        return
    who = " and ".join(part for part in (user_id and f"user {user_id}", item_id and f"item {item_id}") if part)
    title = f"Recommendations{' for ' + who if who else ''}"
    table = Table("#", "item", "score", *names, title=title, min_width=len(title))
    for rank, item in enumerate(response.get("itemList", []), 1):
        metadata = item.get("metadata", {})
        table.add_row(str(rank), item["itemId"], f"{item['score']:.4f}" if "score" in item else "",
                      *(str(metadata.get(column, "")) for column in names))
    console.print(table)
    if not response.get("itemList"):
        console.print("[yellow]No items came back[/yellow] (a filter may exclude everything).")


@main.command(short_help="Batch recommendations from JSON Lines, with a progress bar.")
@click.argument("arn")
@click.argument("input_path")
@click.argument("output_path")
@click.option("--name", "job_name", help="Job name (default: batch-<input>-<time>).")
@click.option("--num", default=25, show_default=True, type=click.IntRange(1, 500), help="Items per line.")
@click.option("--filter", "filter_arn", help="A filter ARN.")
@click.option("--role-arn", default=ROLE_ARN, show_default=True, help="IAM role (recorded; reelrank needs none).")
@click.option("--no-wait", is_flag=True, help="Start the job and return at once.")
@endpoint_options
def batch(arn: str, input_path: str, output_path: str, job_name: str | None, num: int, filter_arn: str | None,
          role_arn: str, no_wait: bool, endpoint_url: str, access_key: str, secret_key: str, region: str,
          as_json: bool) -> None:
    """Run a batch inference job: JSON Lines from INPUT_PATH, answers into the folder OUTPUT_PATH.

    ARN is a solution version, or a solution (its latest ACTIVE version is used). Paths are local, file://…
    or s3://…; each input file `x` is answered in `OUTPUT_PATH/x.out`.

    \b
    reelrank batch arn:aws:personalize:us-east-1:000000000000:solution/movies users.jsonl out/
    """
    from reelrank.client import location_uri, solution_version

    local_input = _local(input_path)
    if local_input is not None and not local_input.exists():
        raise click.BadParameter(f"{local_input} does not exist.", param_hint="INPUT_PATH")
    endpoint = _endpoint(endpoint_url, access_key, secret_key, region)
    with _talking_to(endpoint_url, "list solutions with `reelrank status`."):
        personalize = endpoint.client()
        version = solution_version(personalize, arn)
        source = location_uri(input_path)
        destination = location_uri(output_path).rstrip("/") + "/"
        params: dict[str, Any] = {
            "jobName": job_name or _job_name("batch", input_path), "solutionVersionArn": version,
            "roleArn": role_arn, "numResults": num, "jobInput": {"s3DataSource": {"path": source}},
            "jobOutput": {"s3DataDestination": {"path": destination}}}
        if filter_arn is not None:
            params["filterArn"] = filter_arn
        job_arn = personalize.create_batch_inference_job(**params)["batchInferenceJobArn"]
        state = endpoint.progress(job_arn) if no_wait else _follow(endpoint, job_arn, "batch", as_json)
    rows, failed = state.get("rowsDone"), None
    local_output = _local(output_path)
    if state["status"] == "ACTIVE" and local_output is not None and local_input is not None:
        counted, failed = _count_outputs(local_input, local_output)  # exact, and counted like the failed lines
        rows = counted if counted is not None else rows
    result = {"batchInferenceJobArn": job_arn, "solutionVersionArn": version, "input": source,
              "output": destination, "status": state["status"], "rows": rows, "failedRows": failed,
              "failureReason": state.get("failureReason")}
    lines = "" if rows is None else f"{rows:,} lines " + ("" if failed is None else f"({failed:,} failed) ")
    _report_job(result, as_json, f"[green]Batch done[/green]: {lines}answered into {destination}", "Batch job")


def _report_job(result: dict[str, Any], as_json: bool, done: str, noun: str) -> None:
    """How an import or batch job ended (or that it runs on, with --no-wait); exit status 1 if it failed."""
    job_arn = next(value for key, value in result.items() if key.endswith("JobArn"))
    if as_json:
        _print_json(result)
    elif result["status"] == "ACTIVE":
        console.print(done, soft_wrap=True)
        console.print(f"  job: {job_arn}", soft_wrap=True)
    elif result["status"] == "CREATE FAILED":
        console.print(f"[red]{noun} failed[/red]: {job_arn}\n{result.get('failureReason')}", soft_wrap=True)
    else:
        console.print(f"{noun} started: {job_arn} ({result['status']})\n  follow it with `reelrank status`",
                      soft_wrap=True)
    if result["status"] == "CREATE FAILED":
        raise SystemExit(1)


def _count_outputs(source: Path, destination: Path) -> tuple[int | None, int | None]:
    """Lines and failed lines of the local outputs answering `source`, or (None, None) if they are not here."""
    inputs = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
    lines = failed = 0
    for path in inputs:
        output = destination / f"{path.name}.out"
        if not output.is_file():
            return None, None
        with output.open("rb") as stream:
            for raw in stream:
                if raw.strip():
                    lines += 1
                    failed += orjson.loads(raw).get("error") is not None
    return lines, failed


@main.command("status", short_help="Dataset groups, models, campaigns and running jobs.")
@click.option("--dataset-group", "group", help="Only this dataset group (name or ARN).")
@endpoint_options
def status_command(group: str | None, endpoint_url: str, access_key: str, secret_key: str, region: str,
                   as_json: bool) -> None:
    """An overview: dataset groups, datasets and their last import, solutions with their latest version and
    key metric, campaigns, recommenders and the jobs still running.

    \b
    reelrank status
    reelrank status --dataset-group movies-demo --json
    """
    from reelrank.client import overview

    endpoint = _endpoint(endpoint_url, access_key, secret_key, region)
    with _talking_to(endpoint_url):
        state = overview(endpoint, group)
    if as_json:
        _print_json(state)
        return
    _show_overview(state)


def _status_text(status: str) -> str:
    colour = "green" if status in ("ACTIVE", "COMPLETED") else "red" if "FAILED" in status else "yellow"
    return f"[{colour}]{status}[/{colour}]"


def _show_overview(state: dict[str, Any]) -> None:
    """A tree: each resource's name, status and what matters about it, with its ARN on the line below."""
    from rich.markup import escape
    from rich.tree import Tree

    groups = state["datasetGroups"]
    if not groups:
        console.print(f"No dataset groups at {state['endpoint']} yet.\nLoad the demo with `reelrank demo`, or "
                      "create one with `aws personalize create-dataset-group`.", soft_wrap=True)
        return

    def label(text: str, arn: str, problem: str | None = None) -> str:
        return text + (f"\n[red]{escape(problem)}[/red]" if problem else "") + f"\n[dim]{arn}[/dim]"

    root = Tree(f"[bold]reelrank[/bold] at [cyan]{state['endpoint']}[/cyan]")
    for group in groups:
        domain = f", {group['domain']}" if group.get("domain") else ""
        branch = root.add(label(f"[bold]{escape(group['name'])}[/bold] ({_status_text(group['status'])}{domain})",
                                group["arn"]))
        datasets = branch.add("datasets" if group["datasets"] else "datasets: none")
        for dataset in group["datasets"]:
            last = dataset["lastImport"]
            when = "" if last is None else last["created"][:16].replace("T", " ")
            imported = "no import yet" if last is None else (
                f"last import {escape(last['name'])} {_status_text(last['status'])} {when}")
            datasets.add(label(f"{dataset['type']} {_status_text(dataset['status'])} · {imported}", dataset["arn"],
                               last and last.get("failureReason")))
        solutions = branch.add("solutions" if group["solutions"] else "solutions: none")
        for solution in group["solutions"]:
            latest = solution["latestVersion"]
            text = "no version yet" if latest is None else f"latest version {_status_text(latest['status'])}"
            metric = solution["metric"]
            if metric and metric["value"] is not None:
                text += f" · NDCG@10 {metric['value']:.4f}"
                if metric.get("baseline") is not None:
                    text += f" (most-popular {metric['baseline']:.4f})"
            node = solutions.add(label(f"{escape(solution['name'])} [dim]({solution['recipe']})[/dim] · {text}",
                                       solution["arn"], latest and latest.get("failureReason")))
            for campaign in solution["campaigns"]:
                node.add(label(f"campaign {escape(campaign['name'])} {_status_text(campaign['status'])}",
                               campaign["arn"]))
        if group["recommenders"]:
            recommenders = branch.add("recommenders")
            for recommender in group["recommenders"]:
                recommenders.add(label(f"{escape(recommender['name'])} [dim]({recommender['recipe']})[/dim] "
                                       f"{_status_text(recommender['status'])}", recommender["arn"]))
        running = branch.add("running jobs" if group["runningJobs"] else "running jobs: none")
        for job in group["runningJobs"]:
            progress = f" {job['percent']:.0f}%" if job.get("percent") is not None else ""
            stage = f" · {escape(job['stage'])}" if job.get("stage") else ""
            rows = _rows_detail(job)
            running.add(label(f"{job['kind']} {escape(job['name'])} {_status_text(job['status'])}{progress}{stage}"
                              f"{' · ' + rows if rows else ''}", job["arn"]))
    console.print(root)
