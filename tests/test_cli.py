"""The `reelrank` command line, run as a user would."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.servers import BIN, free_port


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "reelrank"), *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("serve", "demo", "import", "train", "deploy", "recommend", "batch", "status"):
        assert f"\n  {command} " in result.stdout


def test_serve_help_lists_its_options() -> None:
    result = run("serve", "--help")
    for option in ("--host", "--port", "--data-dir", "--access-key", "--secret-key", "--no-auth", "--import-root"):
        assert option in result.stdout


def test_a_bad_quota_is_a_usage_error() -> None:
    result = run("serve", "--quota", "nonsense=3")
    assert result.returncode == 2
    assert "expected NAME=INTEGER" in result.stderr


def test_demo_loads_a_generated_catalogue_on_a_clean_data_dir(tmp_path: Path) -> None:
    port = str(free_port())
    args = ("demo", "--once", "--port", port, "--data-dir", str(tmp_path / "data"), "--users", "120", "--items", "80",
            "--interactions", "3000")
    first = run(*args)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "access key: AKIAREELRANKDEMO0001" in first.stdout
    assert f"web console: http://127.0.0.1:{port}/console" in first.stdout
    assert "Generating a catalogue: 120 users, 80 movies, 3000 interactions" in first.stdout
    assert "dataset-group/movies-demo" in first.stdout
    for dataset_type, rows in (("INTERACTIONS", "3000"), ("ITEMS", "80"), ("USERS", "120")):
        line = next(line for line in first.stdout.splitlines() if dataset_type in line and "│" in line)
        assert rows in line
    assert "Offline metrics" in first.stdout and "Top picks for u1" in first.stdout
    again = run(*args, "--data-only")
    assert again.returncode == 0
    assert "Reusing the dataset group" in again.stdout
