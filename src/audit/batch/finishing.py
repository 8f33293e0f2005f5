"""Finishing a batch: the combined findings, the manifest (written last but for the index), the index."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit import tracking
from audit.batch.inputs import Inputs, input_records, store_sources
from audit.batch.jobs import FINDINGS, ROLLUP, STATE, BatchOptions, Job, JobResult
from audit.exceptions import AuditError
from audit.exports import write_csv, write_xlsx
from audit.findings import REGISTER_COLUMNS, combine_registers, read_register, write_register
from audit.manifest import (
    FileRecord,
    code_revision,
    package_versions,
    utc_now,
    utc_text,
    write_atomically,
    write_manifest,
)
from audit.params import Params
from audit.privacy import mask_findings
from audit.publishing import index_html
from audit.rectification import write_rectification_list
from audit.runfolder import COMBINED, MASKED_FINDINGS, RESTRICTED, is_restricted
from audit.store import Store
from audit.vocabulary import SEVERITIES


def combine_findings(run_dir: Path, parts: list[Path], lang: str, params: Params) -> tuple[list[Path], int]:
    """Write the combined register (every unit's findings) and the reviewers' masked findings list.

    The register (parquet, csv and the xlsx rectification list, which cites the documents and
    figures of ``params``) keeps full personal data: it goes to ``restricted/``. The masked list
    (``findings-masked.csv`` and ``.xlsx``, the register's columns with ID numbers, names and
    accounts masked and text neutralised) goes to the run folder's top, for reviewers.

    Returns the files written (restricted first) and the number of findings.
    """
    combined = combine_registers(read_register(p) for p in parts)
    staging = run_dir / STATE / "work" / FINDINGS  # written whole here, then renamed into place
    shutil.rmtree(staging, ignore_errors=True)
    written = write_register(combined, staging / RESTRICTED, COMBINED)
    files = [written["parquet"], written["csv"]]
    prefill = tracking.prefills(run_dir)  # what the follow-up journal holds, when the run is tracked
    files.append(
        write_rectification_list(
            combined, staging / RESTRICTED / f"{COMBINED}.xlsx", params, lang=lang, prefill=prefill
        )
    )
    masked = mask_findings(combined)[list(REGISTER_COLUMNS)]
    files.append(write_csv(masked, staging / f"{MASKED_FINDINGS}.csv"))
    files.append(write_xlsx({MASKED_FINDINGS: masked}, staging / f"{MASKED_FINDINGS}.xlsx"))
    for suffix in (".parquet", ".csv", ".xlsx"):  # where a run resumed from before restricted/ kept it
        (run_dir / f"{COMBINED}{suffix}").unlink(missing_ok=True)
    final = []
    for path in files:
        dest = run_dir / path.relative_to(staging)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, dest)
        final.append(dest)
    shutil.rmtree(staging, ignore_errors=True)
    return final, len(combined)


def _severities(paths: list[Path]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for path in paths:
        for severity, n in read_register(path)["severity"].value_counts().items():
            counts[str(severity)] = counts.get(str(severity), 0) + int(n)
    return counts


def _units(
    run_dir: Path,
    jobs: list[Job],
    results: Mapping[str, JobResult],
    counties: list[str],
    names: Mapping[str, str],
) -> list[dict[str, Any]]:
    by_unit: dict[str, list[Job]] = {}
    for job in jobs:
        by_unit.setdefault(job.unit, []).append(job)
    units = []
    for unit in [*counties, ROLLUP]:
        mine = [results[j.key] for j in by_unit[unit]]
        failed = [r for r in mine if r.status != "ok"]
        paths = [o.path for r in mine for o in r.outputs]
        # every file the report job rendered, whatever its format: the sign-off covers them all
        rendered = [o.path for j in by_unit[unit] if j.kind == "report" for o in results[j.key].outputs]
        prefix = f"{RESTRICTED}/{unit}/findings-"  # the unit's registers: full values, restricted
        registers = [p for p in paths if p.startswith(prefix) and p.endswith(".parquet")]
        units.append(
            {
                "code": unit,
                "kind": "rollup" if unit == ROLLUP else "county",
                "status": "failed" if failed else "ok",
                "name": names.get(unit, ""),
                # a blocked report only repeats that a notebook failed: give the notebooks' reasons
                # each reason once: a damaged store file fails every notebook of its county alike
                "reason": "; ".join(dict.fromkeys(r.reason for r in failed if r.status == "failed")),
                "reports": rendered,
                "notebooks": [p for p in paths if p.endswith(".ipynb")],
                "failures": [p for p in paths if p.endswith(".failed.html")],
                "registers": registers,
                "findings": _severities([run_dir / p for p in registers]),
            }
        )
    return units


def write_index(run_dir: Path) -> Path:
    """Write ``index.html`` from the manifest and the sign-offs (again after every sign-off)."""
    path = run_dir / "index.html"
    write_atomically(path, index_html(run_dir))
    return path


@dataclass(frozen=True)
class BatchSummary:
    """What a finished batch says about itself."""

    run_dir: Path
    units: tuple[dict[str, Any], ...]
    findings: int
    findings_error: str = ""  # why the combined register could not be written, if it could not

    @property
    def failed(self) -> tuple[dict[str, Any], ...]:
        """Units with a failed or blocked job."""
        return tuple(u for u in self.units if u["status"] != "ok")

    @property
    def ok(self) -> bool:
        """Every unit finished and the combined register was written."""
        return not self.failed and not self.findings_error


def _restricted(path: Path, run_dir: Path) -> bool:
    """Whether ``path``, a file of the run folder ``run_dir``, is a restricted export."""
    return is_restricted(path.relative_to(run_dir).as_posix())


def _unaudited(store: Path) -> list[dict[str, Any]]:
    """Quarantined rows and yuan by table and county (``Store.unaudited``), for the index."""
    from audit.store import Store  # late, as in `_county_names`

    try:
        frame = Store.open(store).unaudited()
    except Exception:  # a damaged store already failed its county, named; the index must still be written
        return []
    return [
        {"table": str(r.table), "county_code": str(r.county_code), "rows": int(r.rows), "yuan": float(r.yuan)}
        for r in frame.itertuples(index=False)
    ]


def _county_names(store: Path) -> dict[str, str]:
    """County names from the store's register of divisions, for the index (none if it has none)."""
    try:
        divisions = Store.open(store).read("divisions", columns=["division_code", "name"])
    except Exception:  # names are a nicety of the index: a damaged register must not cost it
        return {}
    if divisions is None:
        return {}
    return {str(c): str(n) for c, n in zip(divisions["division_code"], divisions["name"], strict=True) if n}


def finish_run(
    options: BatchOptions,
    params: Params,
    inputs: Inputs,
    code: str,
    run_dir: Path,
    jobs: list[Job],
    results: Mapping[str, JobResult],
    counties: list[str],
    where: dict[str, Any],
    started: dt.datetime,
) -> BatchSummary:
    """Combine the findings, then write the manifest (last but for the index) and the index."""
    units = _units(run_dir, jobs, results, counties, _county_names(options.store))
    parts = [run_dir / p for u in units for p in u["registers"]]
    try:
        register, n_findings = combine_findings(run_dir, parts, options.lang, params)
        combine_error = ""
    except AuditError as exc:  # the reports stand; the index says why there is no combined register
        register, n_findings, combine_error = [], 0, str(exc)
    snapshot = [run_dir / tracking.SNAPSHOT] if (run_dir / tracking.SNAPSHOT).exists() else []
    outputs = sorted(
        [o for r in results.values() for o in r.outputs]
        + [FileRecord.of(p, run_dir) for p in [*register, *snapshot]],
        key=lambda o: o.path,
    )
    finished = utc_now()
    write_manifest(
        run_dir,
        {
            "run_id": run_dir.name,
            "status": "failed" if combine_error or any(u["status"] != "ok" for u in units) else "ok",
            "started_utc": utc_text(started),
            "finished_utc": utc_text(finished),
            "seconds": (finished - started).total_seconds(),
            "city_code": params.city_code,
            "unaudited": _unaudited(options.store),
            "executor": where,
            "code": {**code_revision(), "digest": code},
            "versions": package_versions(),
            "parameters": {
                "run": {
                    "counties": counties,
                    "lang": options.lang,
                    "pii": options.pii,
                    "formats": list(options.formats or ()),
                    "timeout_seconds": options.timeout,
                    "jobs": options.jobs,
                    "resume": options.resume,
                },
                "params": params.model_dump(mode="json"),
            },
            "roots": {
                "store": str(inputs.store),
                "notebooks": str(inputs.notebooks),
                "params": str(inputs.params.parent),
            },
            "inputs": input_records(inputs),
            "store_sources": store_sources(inputs.store),
            "outputs": [o.to_json() for o in outputs],
            "findings": [p.relative_to(run_dir).as_posix() for p in register if _restricted(p, run_dir)],
            "findings_masked": [
                p.relative_to(run_dir).as_posix() for p in register if not _restricted(p, run_dir)
            ],
            "findings_error": combine_error,
            "jobs": [
                {
                    **{k: v for k, v in results[j.key].to_json().items() if k != "outputs"},
                    "kind": j.kind,
                    "unit": j.unit,
                    "area": j.area,
                    "resumed": results[j.key].resumed,
                }
                for j in jobs
            ],
            "units": units,
            "tracking": tracking.journal_head(run_dir),
        },
    )
    if options.track is not None and not combine_error:
        tracking.record_run(options.track, run_dir, "audit batch", utc_text(finished))
    write_index(run_dir)
    return BatchSummary(run_dir, tuple(units), n_findings, combine_error)
