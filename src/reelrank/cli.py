"""The `reelrank` command line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
from rich.console import Console

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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--data-dir", default="data", show_default=True, type=click.Path(path_type=Path),
              help="Where metadata (SQLite) and data sets (Parquet) live.")
@click.option("--metadata-url", default=None,
              help="SQLAlchemy URL of the metadata store (default: SQLite in --data-dir).")
@click.option("--access-key", default=DEMO_ACCESS_KEY, show_default=True, help="Access key id callers sign with.")
@click.option("--secret-key", default=DEMO_SECRET_KEY, help="Secret access key for --access-key.")
@click.option("--no-auth", is_flag=True, help="Accept unsigned requests (local experiments only).")
@click.option("--region", default="us-east-1", show_default=True)
@click.option("--account", default="000000000000", show_default=True)
@click.option("--import-root", multiple=True, type=click.Path(path_type=Path),
              help="A local folder that file:// imports and exports may use (repeatable).")
@click.option("--quota", multiple=True, help="Raise or lower a quota, e.g. --quota dataset_groups=20 (repeatable).")
@click.option("--workers", "max_jobs", default=2, show_default=True, help="Background jobs run at once.")
def serve(host: str, port: int, data_dir: Path, metadata_url: str | None, access_key: str, secret_key: str,
          no_auth: bool, region: str, account: str, import_root: tuple[Path, ...], quota: tuple[str, ...],
          max_jobs: int) -> None:
    """Start the server: control plane, runtime and events on one port."""
    import uvicorn

    from reelrank.app import build_app

    settings = Settings(data_dir=data_dir, metadata_url=metadata_url, region=region, account=account,
                        credentials={access_key: secret_key}, auth=not no_auth, import_roots=import_root,
                        quotas=_quotas(quota), max_concurrent_jobs=max_jobs)
    app = build_app(settings)
    endpoint = f"http://{host}:{port}"
    console.print(f"[bold]reelrank {__version__}[/bold] serving Personalize on [cyan]{endpoint}[/cyan]")
    if settings.auth:
        console.print(f"  access key: [green]{access_key}[/green]  secret key: [green]{secret_key}[/green]", soft_wrap=True)
    else:
        console.print("  [yellow]authentication is off (--no-auth): for local experiments only[/yellow]")
    console.print(f"  data: {data_dir.resolve()}  import roots: "
                  f"{', '.join(str(root) for root in settings.allowed_roots())}")
    uvicorn.run(app, host=host, port=port, log_level="warning")
