"""The `reelrank` command line."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
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
    import uvicorn

    from reelrank.app import build_app

    return uvicorn.Server(uvicorn.Config(build_app(settings), host=host, port=port, log_level="warning"))


@main.command()
@server_options
def serve(host: str, port: int, data_dir: Path, metadata_url: str | None, access_key: str, secret_key: str,
          no_auth: bool, region: str, account: str, import_root: tuple[Path, ...], quota: tuple[str, ...],
          max_jobs: int) -> None:
    """Start the server: control plane, runtime and events on one port."""
    settings = _settings(data_dir, metadata_url, access_key, secret_key, no_auth, region, account, import_root,
                         quota, max_jobs)
    server = _server(settings, host, port)
    _announce(settings, f"http://{host}:{port}", access_key, secret_key)
    server.run()


@main.command()
@server_options
@click.option("--users", default=2000, show_default=True, help="Users in the generated catalogue.")
@click.option("--items", default=1000, show_default=True, help="Movies in the generated catalogue.")
@click.option("--interactions", default=100_000, show_default=True, help="Interactions to generate.")
@click.option("--once", is_flag=True, help="Stop the server after loading instead of serving on.")
@click.option("--data-only", is_flag=True, help="Only load the catalogue: no training, campaign or recommender.")
def demo(host: str, port: int, data_dir: Path, metadata_url: str | None, access_key: str, secret_key: str,
         no_auth: bool, region: str, account: str, import_root: tuple[Path, ...], quota: tuple[str, ...],
         max_jobs: int, users: int, items: int, interactions: int, once: bool, data_only: bool) -> None:
    """Start a server, load a generated movie catalogue through the public API, train, deploy and recommend."""
    from reelrank.client import Endpoint
    from reelrank.demo import DemoSizes, deploy, load_catalogue, personalize_client

    settings = _settings(data_dir, metadata_url, access_key, secret_key, no_auth, region, account, import_root,
                         quota, max_jobs)
    server = _server(settings, host, port)
    endpoint = f"http://{host}:{port}"
    failures: list[BaseException] = []

    def load() -> None:
        while not server.started:
            time.sleep(0.05)
        try:
            client = personalize_client(endpoint, access_key, secret_key, region)
            result = load_catalogue(client, settings.data_dir / "imports", DemoSizes(users, items, interactions),
                                    report=lambda line: console.print(f"  {line}", soft_wrap=True))
            table = Table("dataset", "rows", "ARN", title="Loaded through the public API")
            for dataset_type, arn in result.datasets.items():
                table.add_row(dataset_type, str(result.rows.get(dataset_type, "")), arn)
            console.print(table)
            console.print(f"Dataset group: [cyan]{result.dataset_group_arn}[/cyan]", soft_wrap=True)
            if not data_only:
                endpoint_ = Endpoint(endpoint, access_key, secret_key, region)
                deployed = deploy(client, endpoint_.client("personalize-events"), result.dataset_group_arn,
                                  report=lambda line: console.print(f"  {line}", soft_wrap=True))
                _show_demo(endpoint_, deployed)
            console.print(f"Try it:\n  aws personalize list-datasets --endpoint-url {endpoint} "
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


def endpoint_options(command: Callable[..., None]) -> Callable[..., None]:
    """Where a client command sends its requests."""
    options = [
        click.option("--endpoint-url", default="http://127.0.0.1:8080", show_default=True, envvar="REELRANK_ENDPOINT"),
        click.option("--access-key", default=DEMO_ACCESS_KEY, show_default=True, envvar="AWS_ACCESS_KEY_ID"),
        click.option("--secret-key", default=DEMO_SECRET_KEY, envvar="AWS_SECRET_ACCESS_KEY"),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for scripts)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@main.command()
@click.argument("solution_arn")
@click.option("--mode", type=click.Choice(["FULL", "UPDATE"]), default="FULL", show_default=True)
@click.option("--no-wait", is_flag=True, help="Start training and return at once.")
@endpoint_options
def train(solution_arn: str, mode: str, no_wait: bool, endpoint_url: str, access_key: str, secret_key: str,
          as_json: bool) -> None:
    """Train a new solution version of SOLUTION_ARN, showing its progress."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from reelrank.client import Endpoint

    endpoint = Endpoint(endpoint_url, access_key, secret_key)
    personalize = endpoint.client()
    try:
        arn = personalize.create_solution_version(solutionArn=solution_arn, trainingMode=mode)["solutionVersionArn"]
    except Exception as error:
        raise click.ClickException(f"{error}\nHint: is the solution ACTIVE? `aws personalize describe-solution "
                                   f"--solution-arn {solution_arn} --endpoint-url {endpoint_url}`") from None
    state = {"arn": arn, "status": "CREATE PENDING"}
    if not no_wait:
        columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, disable=as_json) as bar:
            task = bar.add_task("queued", total=100)
            while state["status"] in ("CREATE PENDING", "CREATE IN_PROGRESS", "CREATE STOPPING"):
                time.sleep(0.5)
                state = endpoint.progress(arn)
                bar.update(task, completed=state.get("percent") or 0, description=state.get("stage") or "queued")
            bar.update(task, completed=100 if state["status"] == "ACTIVE" else state.get("percent") or 0)
    if state["status"] == "ACTIVE":
        state["metrics"] = personalize.get_solution_metrics(solutionVersionArn=arn)["metrics"]
    if as_json:
        click.echo(orjson.dumps(state, option=orjson.OPT_INDENT_2).decode())
    else:
        _show_version(state)
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
    for title, target in (("Top picks for u1 (VOD recommender)", {"recommenderArn": deployed.recommender_arn}),
                          ("Recommended for u1 (campaign, aws-user-personalization)",
                           {"campaignArn": deployed.campaign_arn})):
        items = runtime.get_recommendations(userId="u1", numResults=5, metadataColumns=columns, **target)["itemList"]
        listing = Table("item", "title", "genres", "score", title=title)
        for item in items:
            metadata = item.get("metadata", {})
            listing.add_row(item["itemId"], metadata.get("TITLE", ""), metadata.get("GENRES", ""),
                            f"{item['score']:.4f}" if "score" in item else "")
        console.print(listing)
    console.print(f"Campaign: [cyan]{deployed.campaign_arn}[/cyan]\nRecommender: [cyan]{deployed.recommender_arn}"
                  "[/cyan]", soft_wrap=True)
