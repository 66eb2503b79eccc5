"""docs/compatibility.md, generated from botocore's service models: every operation and whether reelrank serves it.

Run `python -m reelrank.compat` to rewrite the file, `python -m reelrank.compat --check` to verify it is current.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import botocore
import botocore.session
from botocore import xform_name
from botocore.exceptions import DataNotFoundError, UnknownServiceError
from botocore.model import OperationModel

from reelrank.protocol.models import CONTROL_PLANE, SERVICES, TARGET_PREFIX, control_plane_operations, rest_routes
from reelrank.service.backend import family_of

DOC_PATH = Path("docs") / "compatibility.md"
NOT_YET = "not yet — answers InvalidInputException"
REGENERATE = "python -m reelrank.compat"

# Operation names whose resource is not simply the name less its verb.
_RESOURCE_OVERRIDES = {
    "GetSolutionMetrics": "SolutionVersion",
    "StopSolutionVersionCreation": "SolutionVersion",
    "ListMetricAttributionMetrics": "MetricAttribution",
    "ListTagsForResource": "Tags",
    "TagResource": "Tags",
    "UntagResource": "Tags",
}
# Order of the operations within one resource: its lifecycle first, then anything else alphabetically.
_VERB_ORDER = ("Create", "Describe", "List", "Update", "Start", "Stop", "Delete")


@dataclass(frozen=True)
class Entry:
    """One operation of one service, as the document lists it."""

    service: str
    name: str
    binding: str
    paginator: str | None
    family: str | None

    @property
    def resource(self) -> str:
        if self.service != CONTROL_PLANE:
            return self.service
        if self.name in _RESOURCE_OVERRIDES:
            return _RESOURCE_OVERRIDES[self.name]
        verb, rest = _split_verb(self.name)
        return rest[:-1] if verb == "List" and rest.endswith("s") else rest

    @property
    def order(self) -> tuple[int, str]:
        verb, _ = _split_verb(self.name)
        rank = _VERB_ORDER.index(verb) if verb in _VERB_ORDER else len(_VERB_ORDER)
        return rank, self.name

    @property
    def status(self) -> str:
        return f"implemented (`{self.family}`)" if self.family else NOT_YET


def _split_verb(name: str) -> tuple[str, str]:
    match = re.match(r"[A-Z][a-z]+", name)
    verb = match.group(0) if match else ""
    return verb, name[len(verb):] or name


def _humanize(resource: str) -> str:
    words = re.findall(r"[A-Z][a-z]*", resource)
    return " ".join([words[0], *(word.lower() for word in words[1:])]) if words else resource


def _paginators(service: str) -> dict[str, str]:
    """Operation name → the result key(s) of botocore's paginator for it; empty when the service has none."""
    try:
        model = botocore.session.get_session().get_paginator_model(service)
    except (DataNotFoundError, UnknownServiceError):
        return {}
    found: dict[str, str] = {}
    for name in _operation_names(service):
        try:
            config = model.get_paginator(name)
        except ValueError:
            continue
        keys = config.get("result_key", [])
        found[name] = ", ".join(f"`{key}`" for key in ([keys] if isinstance(keys, str) else keys))
    return found


def _operations(service: str) -> list[OperationModel]:
    if service == CONTROL_PLANE:
        return [operation.model for operation in control_plane_operations().values()]
    return [operation.model for operation in rest_routes().values() if operation.service == service]


def _operation_names(service: str) -> list[str]:
    return [str(operation.name) for operation in _operations(service)]


def _binding(service: str, operation: OperationModel) -> str:
    if service == CONTROL_PLANE:
        return f"`POST /` + `X-Amz-Target: {TARGET_PREFIX}{operation.name}`"
    return f"`{operation.http['method']} {operation.http['requestUri']}`"


def entries() -> list[Entry]:
    """Every operation of the three services, in service order, grouped by resource, lifecycle order within."""
    found: list[Entry] = []
    for service in SERVICES:
        paginators = _paginators(service)
        listed: list[Entry] = []
        for operation in _operations(service):
            name = str(operation.name)
            family = family_of(name)
            listed.append(Entry(service, name, _binding(service, operation), paginators.get(name),
                                family.__name__ if family is not None else None))
        found.extend(sorted(listed, key=lambda entry: (entry.resource, entry.order)))
    return found


def render() -> str:
    """The whole of docs/compatibility.md."""
    listed = entries()
    implemented = sum(1 for entry in listed if entry.family)
    lines = [
        "# Compatibility with Amazon Personalize",
        "",
        f"**{implemented} of {len(listed)} operations implemented**, "
        f"checked against the service models of botocore {botocore.__version__}.",
        "",
        f"This file is generated by `{REGENERATE}` from botocore's service models and checked by "
        "`tests/test_compat.py`; do not edit it by hand. An operation that is not implemented yet is still "
        f"parsed and validated, then answered with `InvalidInputException`.",
        "",
        "| Service (boto3 client) | Implemented |",
        "| --- | --- |",
    ]
    for service in SERVICES:
        own = [entry for entry in listed if entry.service == service]
        lines.append(f"| `{service}` | {sum(1 for entry in own if entry.family)} of {len(own)} |")
    for service in SERVICES:
        own = [entry for entry in listed if entry.service == service]
        lines += ["", f"## `{service}`", ""]
        resources = list(dict.fromkeys(entry.resource for entry in own))
        for resource in resources:
            if service == CONTROL_PLANE:
                lines += [f"### {_humanize(resource)}", ""]
            lines += [
                "| Operation | boto3 method | HTTP binding | Paginator (result key) | Status |",
                "| --- | --- | --- | --- | --- |",
            ]
            for entry in own:
                if entry.resource == resource:
                    lines.append(f"| `{entry.name}` | `{xform_name(entry.name)}` | {entry.binding} | "
                                 f"{entry.paginator or '—'} | {entry.status} |")
            lines.append("")
        lines.pop()
    return "\n".join(lines) + "\n"


def default_output() -> Path:
    """docs/compatibility.md of the source checkout this module lives in, else relative to the current directory."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "src" / "reelrank").is_dir():
        return root / DOC_PATH
    return DOC_PATH


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reelrank.compat", description=__doc__)
    parser.add_argument("--output", type=Path, default=None,
                        help="the file to write (default: docs/compatibility.md of the checkout)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file differs from what would be written")
    args = parser.parse_args(argv)
    output: Path = args.output if args.output is not None else default_output()
    text = render()
    if args.check:
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current != text:
            print(f"{output} is stale; run `{REGENERATE}` to regenerate it.", file=sys.stderr)
            return 1
        print(f"{output} is up to date.")
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
