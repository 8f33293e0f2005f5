"""What a reviewer reads of a run: the run's index page, and reviewer bundles (``audit publish``).

The index (``index.html``, written by the batch and again after each sign-off) links only what
a reviewer may read; the restricted exports are named, never linked (:mod:`audit.runfolder`).
A bundle is the part of a run folder a reviewer may read, with its own manifest: every
unit's report in every format rendered, the masked findings list, the sign-offs and an index
linking only those. Nothing under ``restricted/`` (full personal
data), no executed notebook and no working file goes in::

    DIR/
      manifest.json               kind "reviewer-bundle": every file's SHA-256 and size, the run it
                                  came from (id, SHA-256 of its manifest), what was left out and why
      index.html                  links the bundle's own files only
      findings-masked.csv|xlsx    every finding, personal data masked, text neutralised
      signoffs.json               when the run had sign-offs (they still hold: the reports are the same)
      <unit>/report.html|pdf|docx

Only a run that finished, verifies (``audit verify``) and masked personal data is published.
``audit verify DIR`` checks a bundle: every file against its hash, no file that the manifest
does not list, every sign-off.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.exceptions import ManifestError, PublishError
from audit.i18n import label
from audit.manifest import (
    BUNDLE,
    FORMAT,
    MANIFEST,
    SIGNOFF_LEVELS,
    SIGNOFFS,
    Discrepancy,
    FileRecord,
    Verification,
    broken_signoffs,
    check_file,
    held_levels,
    read_manifest,
    read_signoffs,
    sha256_file,
    utc_now,
    utc_text,
    verify,
    write_json,
)
from audit.runfolder import is_restricted
from audit.vocabulary import SEVERITIES

INDEX = "index.html"
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)  # every entry's date: the zip's bytes depend on the files only


@dataclass(frozen=True)
class Bundle:
    """A published reviewer bundle: where, from which run, its files and what was left out."""

    folder: Path
    run_id: str
    files: tuple[FileRecord, ...]
    left_out: tuple[tuple[str, str], ...]  # (path in the run folder, why)
    archive: Path | None = None


def index_html(run_dir: Path, manifest: Mapping[str, Any] | None = None, *, published: bool = False) -> str:
    """The run's index page from its manifest and sign-offs.

    It links only what a reviewer may read: the reports, the masked findings list, the
    notebooks (masked as the reports); the restricted exports are named, never linked. With
    ``published`` (a reviewer bundle, ``audit publish``) it links no notebook either.
    """
    # start-up time: `audit verify` imports this module; only an index needs jinja2
    from jinja2 import Environment, PackageLoader, select_autoescape

    from audit import tracking  # start-up time: pandas, for the index's follow-up counts only

    manifest = read_manifest(run_dir) if manifest is None else manifest
    signoffs: dict[str, list[dict[str, Any]]] = {}
    every = read_signoffs(run_dir)
    for signoff in every:
        broken = signoff.changed_reports(run_dir)
        signoffs.setdefault(signoff.county, []).append(
            {
                "reviewer": signoff.reviewer,
                "when": signoff.signed_utc,
                "note": signoff.note,
                "level": signoff.level,
                "broken": broken,
            }
        )
    env = Environment(loader=PackageLoader("audit", "templates"), autoescape=select_autoescape(default=True))
    return env.get_template("index.html").render(
        manifest=manifest,
        published=published,
        signoffs=signoffs,
        levels=held_levels(run_dir, every),
        signoff_levels=SIGNOFF_LEVELS,
        followup=tracking.index_counts(run_dir, manifest),
        followup_words=[*tracking.STATUSES, tracking.REOPENED, tracking.CLOSABLE],
        severities=SEVERITIES,
        severity_zh={s: label(f"severity.{s}", "zh") for s in SEVERITIES},
    )


def left_out_reason(rel: str) -> str:
    """Why a file of the run folder is not in a reviewer bundle."""
    name = rel.rsplit("/", 1)[-1]
    if is_restricted(rel):
        return "restricted export: full ID numbers, names and bank accounts"
    if name.endswith(".ipynb") or name.endswith(".failed.html"):
        return "executed notebook: a working file; the report says the same"
    if name.startswith("results-"):
        return "rule results: a working file; the report lists the rules run and not run"
    if name == "followup.json":
        return "the follow-up journal's snapshot: a working file; the reports show each finding's status"
    return "not a document for reviewers"


def reviewer_files(manifest: Mapping[str, Any]) -> list[str]:
    """The run's files a reviewer may read: every unit's reports and the masked findings list."""
    chosen = [p for unit in manifest.get("units", []) for p in unit.get("reports", [])]
    chosen += list(manifest.get("findings_masked", []))
    return [p for p in chosen if not is_restricted(p)]


def publishable(run_dir: Path) -> dict[str, Any]:
    """The run's manifest, when the run may be published; PublishError saying why not and what to do."""
    try:
        manifest = read_manifest(run_dir)
    except ManifestError as exc:
        raise PublishError(f"cannot publish: {exc}") from None
    failed = [u for u in manifest.get("units", []) if u.get("status") != "ok"]
    if manifest.get("status") != "ok" or failed:
        why = "; ".join(f"{u['code']}: {u.get('reason') or 'failed'}" for u in failed)
        why = why or manifest.get("findings_error") or "it did not finish"
        raise PublishError(
            f"{run_dir}: the run is incomplete ({why}); finish it (audit batch --resume) "
            "or run the batch again, then publish"
        )
    if manifest.get("parameters", {}).get("run", {}).get("pii") == "full":
        raise PublishError(
            f"{run_dir}: the run's reports show personal data in full (--pii full); "
            "a reviewer bundle needs a masked run: run the batch again without --pii full"
        )
    if "findings_masked" not in manifest:
        raise PublishError(
            f"{run_dir}: the run was written before reviewer bundles (it has no masked findings list); "
            "run the batch again, then publish"
        )
    found = verify(run_dir)
    if not found.ok:
        first = "; ".join(str(p) for p in found.problems[:3])
        raise PublishError(
            f"{run_dir}: the run failed verification ({len(found.problems)} problems: {first}); "
            f"see them all with audit verify {run_dir}, and publish only a run that verifies"
        )
    return manifest


def _destination(run_dir: Path, out: Path, force: bool) -> None:
    """Refuse a destination inside the run (or holding it), a file, or a folder with other files in it."""
    run, dest = run_dir.resolve(), out.resolve()
    if dest == run or dest.is_relative_to(run) or run.is_relative_to(dest):
        raise PublishError(f"--out {out}: inside the run folder (or holding it); choose a folder outside it")
    if dest.exists() and not dest.is_dir():
        raise PublishError(f"--out {out}: exists and is not a folder; choose a new folder")
    if not dest.is_dir() or not any(dest.iterdir()):
        return
    if not is_bundle(dest):
        raise PublishError(
            f"--out {out}: holds files that are not a reviewer bundle; choose a new or empty folder"
        )
    if not force:
        raise PublishError(f"--out {out}: holds a reviewer bundle already; pass --force to replace it")


def is_bundle(folder: Path) -> bool:
    """Whether ``folder`` holds a reviewer bundle (its manifest says so)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("kind") == BUNDLE


def publish(run_dir: Path, out: Path, *, force: bool = False, archive: bool = False) -> Bundle:
    """Copy what a reviewer may read of ``run_dir`` into ``out``, with the bundle's own manifest.

    The bundle is written in a folder beside ``out`` and renamed into place when whole; with
    ``force`` it replaces an earlier bundle there. With ``archive``, ``out`` is also zipped
    (``<out>.zip``, one folder named as ``out`` inside).
    """
    manifest = publishable(run_dir)
    _destination(run_dir, out, force)
    recorded = {o["path"]: FileRecord.from_json(o) for o in manifest["outputs"]}
    chosen = reviewer_files(manifest)
    missing = [p for p in chosen if p not in recorded]
    if missing:  # a report the manifest does not hash cannot be vouched for
        raise PublishError(f"{run_dir}: {', '.join(missing)} not in the run's manifest; run the batch again")
    work = out.parent / f".{out.name}.publishing-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        files = []
        for rel in chosen:
            dest = work / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(run_dir / rel, dest)
            copied = FileRecord.of(dest, work)
            if copied != recorded[rel]:  # changed between the check and the copy
                raise PublishError(f"{run_dir / rel} changed while it was published; publish again")
            files.append(copied)
        if (run_dir / SIGNOFFS).is_file():
            shutil.copyfile(run_dir / SIGNOFFS, work / SIGNOFFS)
            files.append(FileRecord.of(work / SIGNOFFS, work))
        (work / INDEX).write_text(index_html(run_dir, manifest, published=True), encoding="utf-8")
        files.append(FileRecord.of(work / INDEX, work))
        taken = {*chosen, SIGNOFFS}
        left_out = [(p, left_out_reason(p)) for p in sorted(recorded) if p not in taken]
        left_out += [
            (MANIFEST, "the run's manifest (server paths, inputs); its SHA-256 is recorded as the source"),
            (INDEX, "the run's index links working files; the bundle has its own"),
        ]
        write_json(
            work / MANIFEST,
            {
                "format": FORMAT,
                "kind": BUNDLE,
                "published_utc": utc_text(utc_now()),
                "source": {
                    "run_id": manifest["run_id"],
                    "manifest_sha256": sha256_file(run_dir / MANIFEST),
                    "finished_utc": manifest.get("finished_utc", ""),
                    "code": manifest.get("code", {}),
                },
                "files": [f.to_json() for f in sorted(files, key=lambda f: f.path)],
                "left_out": [{"path": p, "reason": why} for p, why in left_out],
            },
        )
        if out.exists():  # an earlier bundle (checked above), or an empty folder
            shutil.rmtree(out)
        os.replace(work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    zipped = _zip(out) if archive else None
    return Bundle(out, str(manifest["run_id"]), tuple(files), tuple(left_out), zipped)


def _zip(folder: Path) -> Path:
    """``<folder>.zip``: the bundle's files under one folder, in name order, with fixed dates."""
    path = folder.with_name(f"{folder.name}.zip")
    partial = folder.with_name(f".{folder.name}.zip.partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            entry = zipfile.ZipInfo(f"{folder.name}/{file.relative_to(folder).as_posix()}", _ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, file.read_bytes())
    os.replace(partial, path)
    return path


def read_bundle_manifest(folder: Path) -> dict[str, Any]:
    """A bundle's manifest; ManifestError when it is missing, unreadable or not a bundle's."""
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{path}: no manifest; publish the run again (audit publish)") from None
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{path}: unreadable manifest: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != BUNDLE or manifest.get("format") != FORMAT:
        raise ManifestError(f"{path}: not the manifest of a reviewer bundle of format {FORMAT}")
    return manifest


def verify_bundle(folder: Path) -> Verification:
    """Recompute every hash of a bundle; name each file changed, missing, or not in its manifest."""
    manifest = read_bundle_manifest(folder)
    problems: list[Discrepancy] = []
    records = [FileRecord.from_json(f) for f in manifest["files"]]
    for record in records:
        found = check_file(record, folder, "file")
        if found:
            problems.append(found)
        elif is_restricted(record.path):  # a hand-made manifest listing a restricted export
            problems.append(Discrepancy("file", record.path, "unexpected", "a restricted export"))
    listed = {r.path for r in records} | {MANIFEST}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel not in listed:
            problems.append(
                Discrepancy(
                    "file",
                    rel,
                    "unexpected",
                    "not in the bundle's manifest; a bundle holds only what was published",
                )
            )
    signoffs = read_signoffs(folder)
    problems += broken_signoffs(signoffs, folder)
    return Verification(
        outputs=len(records), inputs=0, signoffs=len(signoffs), problems=tuple(problems), unavailable=()
    )
