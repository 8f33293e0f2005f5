"""Several submission folders in one store, and a county's corrected resubmission replacing its folder.

A city receives its counties' submissions one folder at a time. ``audit ingest A B C --store S``
reads them as one submission (see :func:`audit.ingest.ingest`): a table's rows come from every
folder that has a file for it, each file is named ``folder/file`` in messages, the log and the
manifest, and the manifest lists each folder under ``submissions`` with its files' SHA-256.

A folder whose name starts with a 6-digit code (``540124``, ``540124-更正``) is that unit's:
a county bureau's, or the city bureau's under the city's own code. It holds the rows that unit
submits, and only those (a row of another county is refused, :class:`SubmissionError`): the
rows whose county of record is the unit (``docs/architecture.md``), a worker its contract pays
although posted in another county's township, and, in the city's folder, the divisions
register, which is the city's own. Reference lists (deaths, public employees) belong to no
county and may be in any folder.

``audit ingest 540124-更正 --store S --resubmit`` replaces county 540124's rows: the store is
ingested again from every folder it was made from, the corrected folder in place of the
county's earlier one, whose files and hashes move to ``replaced`` in the manifest (a county
with no folder in the store yet is added: a late submission). "That
county's rows" are so the rows of its folder, which by the rule above are its own; rows of
540124 in a folder named after no unit would stay beside the corrected ones, so a
resubmission refuses them too. Ingesting everything again, rather than swapping one county's
partitions, keeps the checks across tables (a staff row's contract, a payment's household on
the roll, keys unique city-wide) true of the whole store; the folders kept must still be
where they were, unchanged (their hashes are checked first), or the resubmission is refused.
A refused resubmission writes nothing: the store stays as it was.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.exceptions import InputError, SubmissionError
from audit.ingest.discovery import sha256, survey
from audit.names import shown

_UNIT = re.compile(r"(\d{6})(?!\d)")


@dataclass(frozen=True)
class Plan:
    """A resubmission: every folder to ingest, the units replaced and the earlier folders they replace."""

    sources: list[Path]
    units: frozenset[str]
    replaced: tuple[dict[str, Any], ...]


def unit_of(folder: Path) -> str | None:
    """The county (or city) code a submission folder's name starts with, or None."""
    found = _UNIT.match(folder.name)
    return found.group(1) if found else None


def folders(source_dir: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """The submission's folders: one, or several with different names (a file is named after its folder)."""
    many = not isinstance(source_dir, str | os.PathLike)
    out = [Path(s) for s in source_dir] if many else [Path(source_dir)]  # type: ignore[union-attr]
    if not out:
        raise InputError("no submission folder given")
    names: dict[str, Path] = {}
    for folder in out:
        if not folder.is_dir():
            raise InputError(
                f"{shown(folder)}: no such folder (the submission folder holds one file per table)"
            )
        if folder.name in names:
            raise InputError(
                f"{shown(folder)} and {shown(names[folder.name])}: two submission folders with one name; "
                "rename one (each file is named after its folder in messages and the manifest)"
            )
        names[folder.name] = folder
    return out


def plan(new: list[Path], store: Path) -> Plan:
    """The folders a resubmission of ``new`` into ``store`` ingests, checked before anything is read.

    Raises :class:`SubmissionError` when the store was not made from submission folders, a
    new folder's name does not start with its unit's code, two new folders are of one unit,
    or a folder kept is gone or has changed since it was ingested.
    """
    try:
        manifest = json.loads((store / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SubmissionError(
            "no store here to resubmit into: ingest the submission folders first "
            "(audit ingest 540100 540102 ... --store STORE)",
            file=shown(store),
        ) from None
    earlier = manifest.get("submissions")
    if earlier is None:
        raise SubmissionError(
            "the store was made from one folder, whose rows no county's folder can replace: ingest "
            "the folders together as the city received them (audit ingest 540100 540102 ... --store "
            "STORE), then resubmit a county's folder",
            file=shown(store),
        )
    units: dict[str, Path] = {}
    for folder in new:
        unit = unit_of(folder)
        if unit is None:
            raise SubmissionError(
                "a resubmission's folder is named after its county: start the name with the county's "
                "6-digit code (540124-更正)",
                file=shown(folder),
            )
        if unit in units:
            raise SubmissionError(
                f"two resubmitted folders of county {unit} ({shown(units[unit].name)}, "
                f"{shown(folder.name)}): put the county's corrected files in one folder",
                file=shown(folder),
            )
        units[unit] = folder
    kept = [s for s in earlier if s["unit"] not in units]
    replaced = [*manifest.get("replaced", []), *(s for s in earlier if s["unit"] in units)]
    for submission in kept:
        _unchanged(Path(submission["folder"]), submission["files"])
    sources = folders([*(Path(s["folder"]) for s in kept), *new])
    return Plan(sources, frozenset(units), tuple(replaced))


def _unchanged(folder: Path, files: list[dict[str, Any]]) -> None:
    """Refuse a kept folder that is gone, or whose files differ from those ingested."""
    how = "put it back as it was, or resubmit its unit's folder"
    if not folder.is_dir():
        raise SubmissionError(f"a folder of an earlier submission is gone: {how}", file=shown(folder))
    recorded = {f["path"].split("/", 1)[-1]: f.get("sha256") for f in files}
    found = {shown(p.name): p for paths in survey(folder).found.values() for p in paths}
    for name in sorted(recorded.keys() - found.keys()):
        raise SubmissionError(
            f"a file of an earlier submission is gone: {how}", file=f"{shown(folder.name)}/{name}"
        )
    for name in sorted(found.keys() - recorded.keys()):
        raise SubmissionError(
            f"a file was added to an earlier submission's folder since it was ingested: {how}",
            file=f"{shown(folder.name)}/{name}",
        )
    for name, digest in sorted(recorded.items()):
        if digest is not None and sha256(found[name]) != digest:
            raise SubmissionError(
                f"a file of an earlier submission changed since it was ingested: {how}",
                file=f"{shown(folder.name)}/{name}",
            )


def foreign_rows(
    table: str, county: str, rows: int, unit: str | None, folder: str, replacing: frozenset[str]
) -> str:
    """Why a folder may not hold a block's rows of ``county`` (``rows`` of them), and how to fix it."""
    if unit is not None:
        return (
            f"the folder {folder} is unit {unit}'s, but this row of {table} is county {county}'s "
            f"({rows} such rows in this block): a folder named after a unit holds that unit's rows "
            f"only; move the rows of {county} to {county}'s own folder (or name the folder after no "
            "unit when it is a city-wide submission) and run again; nothing was written"
        )
    units = ", ".join(sorted(replacing))
    return (
        f"the resubmission replaces the folder of county {units}, but the folder {folder}, named "
        f"after no unit, holds this row of {table} of county {county} ({rows} such rows in this "
        "block), which would stay beside the corrected rows: a county's rows are resubmitted only "
        "when its own folder held them; ingest every folder again with the corrected one instead; "
        "nothing was written"
    )


def resubmit(folders: Sequence[str | os.PathLike], store_dir: str | os.PathLike, **options: Any) -> Any:
    """``ingest(folders, store_dir, resubmit=True, **options)``: each folder replaces its county's."""
    from audit.ingest.run import ingest  # the run imports this module

    return ingest(list(folders), store_dir, resubmit=True, **options)
