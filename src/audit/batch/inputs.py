"""The files a batch reads, hashed once: the store, the notebooks, the parameters file."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.batch.jobs import ROLLUP, BatchOptions
from audit.exceptions import BatchError
from audit.manifest import sha256_file
from audit.runspec import CITY_NOTEBOOK
from audit.store import Store
from audit.vocabulary import AREA_NOTEBOOKS


@dataclass(frozen=True)
class Inputs:
    """The files a batch reads, hashed once: store files, notebooks, the parameters file."""

    store: Path
    notebooks: Path
    params: Path
    store_files: Mapping[str, str]  # path relative to the store → sha256
    notebook_files: Mapping[str, str]
    params_sha256: str

    @functools.cached_property
    def _unit_digests(self) -> dict[str, str]:
        """Per county, a hash of its own partitions and every shared file; computed once per batch."""
        shared: dict[str, str] = {}
        own: dict[str, dict[str, str]] = {}
        for path, sha in self.store_files.items():
            parts = [p for p in path.split("/") if p.startswith("county_code=")]
            if parts:
                own.setdefault(parts[0].removeprefix("county_code="), {})[path] = sha
            else:
                shared[path] = sha
        digests = {county: json_digest({**shared, **files}) for county, files in own.items()}
        digests[""] = json_digest(shared)  # a county with no rows of its own
        digests[ROLLUP] = json_digest(self.store_files)  # the roll-up reads every county
        return digests

    def for_unit(self, unit: str) -> str:
        """Hash of the store files a unit's notebooks read: its own partitions and every shared file."""
        return self._unit_digests.get(unit, self._unit_digests[""])

    def digest(self) -> str:
        """One hash of every input, for the default run id."""
        return json_digest(
            {"store": self.store_files, "notebooks": self.notebook_files, "params": self.params_sha256}
        )


def json_digest(value: Any) -> str:
    """SHA-256 of ``value`` as sorted JSON: the same value, the same digest, in every process."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _hash_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


def _notebook_names() -> list[str]:
    return [f"{name}.ipynb" for name in [*AREA_NOTEBOOKS, CITY_NOTEBOOK]]


def gather_inputs(options: BatchOptions) -> Inputs:
    """Hash the store, the notebooks and the parameters file."""
    if not options.store.is_dir():
        raise BatchError(f"{options.store}: store folder not found; create it with audit ingest")
    return Inputs(
        store=options.store.resolve(),
        notebooks=options.notebooks.resolve(),
        params=options.params.resolve(),
        store_files=_hash_tree(options.store),
        notebook_files={
            name: sha256_file(options.notebooks / name)
            for name in _notebook_names()
            if (options.notebooks / name).is_file()
        },
        params_sha256=sha256_file(options.params),
    )


def store_damage(inputs: Inputs, city_code: str) -> dict[str, str]:
    """Units whose store files differ from the store manifest's hashes, each with why, once per file.

    A county partition's damage is its county's (the city bureau's is the roll-up's); a damaged
    file every unit reads (a reference table, the data-quality log) is every unit's, under "".
    """
    by_unit: dict[str, list[str]] = {}
    for rel in Store.open(inputs.store).damaged(inputs.store_files):
        parts = [p.removeprefix("county_code=") for p in rel.split("/") if p.startswith("county_code=")]
        unit = (ROLLUP if parts[0] == city_code else parts[0]) if parts else ""
        by_unit.setdefault(unit, []).append(f"store damaged: {inputs.store / rel}: run audit ingest again")
    return {unit: "; ".join(texts) for unit, texts in by_unit.items()}


def default_run_id(inputs: Inputs, now: dt.datetime) -> str:
    """UTC timestamp and a short hash of the inputs: ``20200507T080000Z-1a2b3c4d``."""
    return f"{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{inputs.digest()[:8]}"


def input_records(inputs: Inputs) -> list[dict[str, Any]]:
    """The manifest's ``inputs``: every file read, with its root, hash and size."""
    records = [
        {"root": "store", "path": p, "sha256": s, "size": (inputs.store / p).stat().st_size}
        for p, s in inputs.store_files.items()
    ]
    records += [
        {"root": "notebooks", "path": p, "sha256": s, "size": (inputs.notebooks / p).stat().st_size}
        for p, s in inputs.notebook_files.items()
    ]
    records.append(
        {
            "root": "params",
            "path": inputs.params.name,
            "sha256": inputs.params_sha256,
            "size": inputs.params.stat().st_size,
        }
    )
    return records


def store_sources(store: Path) -> list[Any]:
    """The submission files the store was ingested from, as its manifest lists them."""
    try:
        return list(json.loads((store / "manifest.json").read_text(encoding="utf-8")).get("sources", []))
    except (OSError, ValueError, AttributeError):
        return []
