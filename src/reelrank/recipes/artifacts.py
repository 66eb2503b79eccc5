"""Model artifacts: a folder with `model.npz` (no pickle) and `manifest.json` (with the file's checksum).

A version is written under a temporary name and renamed into place in one step, so a reader sees the whole
artifact or none of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reelrank.recipes.base import Model

MANIFEST = "manifest.json"
ARRAYS = "model.npz"
_IDS = "__item_ids__"
_POPULARITY = "__popularity__"
FORMAT_VERSION = 1


class ArtifactError(Exception):
    """The artifact is missing, incomplete or does not match its checksum."""


@dataclass(frozen=True)
class Artifact:
    model: Model
    item_ids: np.ndarray
    popularity: np.ndarray
    """Distinct users per item in the training data: the serving fallback for users without evidence."""
    manifest: dict[str, Any]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save(model: Model, item_ids: np.ndarray, folder: Path, extra: Mapping[str, Any] | None = None,
         popularity: np.ndarray | None = None) -> Path:
    """Write the model to `folder` (which must not exist yet), atomically."""
    arrays = model.arrays()
    for name, array in arrays.items():
        if array.dtype == object:
            raise ArtifactError(f"array {name!r} has dtype object; models must save plain numeric arrays")
    partial = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    counts = np.zeros(len(item_ids), dtype=np.float32) if popularity is None else popularity.astype(np.float32)
    stored: dict[str, Any] = {_IDS: np.asarray(item_ids, dtype=np.str_), _POPULARITY: counts, **arrays}
    np.savez(partial / ARRAYS, **stored)
    manifest = {
        "format": FORMAT_VERSION,
        "algorithm": model.algorithm,
        "hyperparameters": dict(model.hyperparameters),
        "items": len(item_ids),
        "files": {ARRAYS: _sha256(partial / ARRAYS)},
        "created": time.time(),
        **(extra or {}),
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    with (partial / MANIFEST).open("rb") as stream:
        os.fsync(stream.fileno())
    partial.rename(folder)
    return folder


def load(folder: Path, models: Mapping[str, type[Model]]) -> Artifact:
    """Read an artifact back, checking its checksum; `models` maps algorithm names to classes."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise ArtifactError(f"cannot read the manifest of {folder}: {error}") from None
    for name, checksum in manifest["files"].items():
        if not (folder / name).exists() or _sha256(folder / name) != checksum:
            raise ArtifactError(f"{folder / name} is missing or does not match its checksum")
    model_class = models.get(manifest["algorithm"])
    if model_class is None:
        raise ArtifactError(f"unknown algorithm {manifest['algorithm']!r} in {folder}")
    with np.load(folder / ARRAYS, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    item_ids = arrays.pop(_IDS)
    popularity = arrays.pop(_POPULARITY)
    return Artifact(model_class.from_arrays(manifest["hyperparameters"], arrays), item_ids, popularity, manifest)
