"""Model artifacts: a folder with `model.npz` (no pickle) and `manifest.json` (with the file's checksum).

A version is written under a temporary name and renamed into place in one step, so a reader sees the whole
artifact or none of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reelrank.recipes.base import Model
from reelrank.recipes.contextual import ContextLift

MANIFEST = "manifest.json"
ARRAYS = "model.npz"
_IDS = "__item_ids__"
_POPULARITY = "__popularity__"
_CONTEXT = "__context_{}__"
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
    context: ContextLift | None = None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save(model: Model, item_ids: np.ndarray, folder: Path, extra: Mapping[str, Any] | None = None,
         popularity: np.ndarray | None = None, context: ContextLift | None = None) -> Path:
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
    if context is not None:
        stored.update({_CONTEXT.format(name): array for name, array in context.arrays().items()})
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
    arrays = _mapped_arrays(folder / ARRAYS)
    item_ids = arrays.pop(_IDS)
    popularity = arrays.pop(_POPULARITY)
    context_arrays = {name: arrays.pop(_CONTEXT.format(name)) for name in _context_names(arrays)}
    context = ContextLift.from_arrays(context_arrays) if context_arrays else None
    return Artifact(model_class.from_arrays(manifest["hyperparameters"], arrays), item_ids, popularity, manifest,
                    context)


def _context_names(arrays: Mapping[str, np.ndarray]) -> list[str]:
    prefix, suffix = _CONTEXT.split("{}")
    return [name[len(prefix):-len(suffix)] for name in arrays if name.startswith(prefix) and name.endswith(suffix)]


_LOCAL_HEADER = struct.Struct("<4s22xHH")
"""A zip member's local header: its signature, then the lengths of its name and extra field, after 22 other bytes."""


def _mapped_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an `np.savez` archive, mapped read-only from the file rather than read: savez stores each array
    uncompressed, so the processes of one server share one copy of a model's pages (in the page cache, and so in the
    processor's cache) instead of holding a copy each."""
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as archive, path.open("rb") as stream:
        for member in archive.infolist():
            name = member.filename.removesuffix(".npy")
            if member.compress_type != zipfile.ZIP_STORED:
                with archive.open(member) as packed:
                    arrays[name] = np.lib.format.read_array(packed, allow_pickle=False)
                continue
            stream.seek(member.header_offset)
            signature, name_length, extra_length = _LOCAL_HEADER.unpack(stream.read(_LOCAL_HEADER.size))
            if signature != b"PK\x03\x04":
                raise ArtifactError(f"{path} is not a readable archive")
            stream.seek(member.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
            version = np.lib.format.read_magic(stream)
            header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran_order, dtype = header(stream)
            if dtype.hasobject:
                raise ArtifactError(f"array {name!r} of {path} holds Python objects")
            if 0 in shape:
                arrays[name] = np.empty(shape, dtype=dtype)
                continue
            arrays[name] = np.asarray(np.memmap(path, dtype=dtype, mode="r", offset=stream.tell(), shape=shape,
                                                order="F" if fortran_order else "C"))
    return arrays
