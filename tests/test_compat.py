"""docs/compatibility.md is generated from botocore's models and must match what `render()` writes today."""

from __future__ import annotations

import re
from pathlib import Path

import botocore

from reelrank.compat import main, render
from reelrank.protocol.models import SERVICES, service_model
from reelrank.service.backend import family_of

DOC = Path(__file__).resolve().parents[1] / "docs" / "compatibility.md"
ROW = re.compile(r"^\| `([A-Z]\w+)` \|", re.MULTILINE)  # operation rows, not the per-service summary


def model_operations() -> list[str]:
    return [name for service in SERVICES for name in service_model(service).operation_names]


def test_committed_document_is_current() -> None:
    assert DOC.is_file(), "docs/compatibility.md is missing; run `python -m reelrank.compat` to generate it."
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/compatibility.md is stale; run `python -m reelrank.compat` to regenerate it.")


def test_lists_every_operation_of_the_three_models_once() -> None:
    listed = ROW.findall(render())
    assert len(listed) == 79
    assert len(set(listed)) == len(listed)
    assert sorted(listed) == sorted(model_operations())


def test_implemented_count_matches_the_service_families() -> None:
    text = render()
    families = {name: family_of(name) for name in model_operations()}
    implemented = {name: family.__name__ for name, family in families.items() if family is not None}
    summary = re.search(r"\*\*(\d+) of (\d+) operations implemented\*\*", text)
    assert summary is not None
    assert (int(summary.group(1)), int(summary.group(2))) == (len(implemented), 79)
    rows = re.findall(r"^\| `(\w+)` \|.*\| implemented \(`(\w+)`\) \|$", text, re.MULTILINE)
    assert dict(rows) == implemented
    assert botocore.__version__ in text


def test_check_flag_reports_a_stale_file(tmp_path: Path) -> None:
    target = tmp_path / "compatibility.md"
    assert main(["--output", str(target), "--check"]) == 1
    assert main(["--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == render()
    assert main(["--output", str(target), "--check"]) == 0
    target.write_text("stale\n", encoding="utf-8")
    assert main(["--output", str(target), "--check"]) == 1
