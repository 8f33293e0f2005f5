"""The plan: every job of a batch, with its fingerprint and the jobs it waits for."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from audit.batch.inputs import Inputs, json_digest
from audit.batch.jobs import REPORT, ROLLUP, RULES, BatchOptions, Job
from audit.exceptions import BatchError
from audit.runspec import ALLOWED_ROOTS_ENV, CITY_NOTEBOOK, parameter_names, validate_spec
from audit.vocabulary import AREA_NOTEBOOKS


def plan(
    options: BatchOptions,
    inputs: Inputs,
    counties: list[str],
    run_dir: Path,
    code: str,
    city_code: str,
    excluded: Sequence[str] = (),
) -> list[Job]:
    """The jobs of a batch: per county its rule run, area notebooks and report; then the roll-up's.

    A unit gets a rule run when one of its notebooks takes ``rules_from``; the roll-up's
    notebook waits for every county's rule run as well as its own, and reads them. The
    notebook parameters are checked here, once, before any kernel starts.
    """
    roots = (inputs.store, inputs.params.parent, run_dir)
    base = {
        "store": str(inputs.store),
        "params": str(inputs.params),
        "out": str(run_dir),  # replaced by the job's working folder (inside the run folder) when it runs
        "lang": options.lang,
        "pii": options.pii,
        "run_id": run_dir.name,
    }
    specs = {}
    if counties:
        specs["county"] = validate_spec(
            {**base, "county": counties[0]}, scope="county", counties=counties, extra_roots=roots
        )
    specs[ROLLUP] = validate_spec(
        {**base, "county": city_code, "counties": counties or None, "excluded": list(excluded) or None},
        scope="city",
        counties=counties,
        extra_roots=roots,
    )
    # the run folder is made when the batch starts, perhaps after planning: set, not checked
    specs = {unit: spec.model_copy(update={"rules_from": run_dir}) for unit, spec in specs.items()}
    env = ((ALLOWED_ROOTS_ENV, os.pathsep.join(str(r) for r in specs[ROLLUP].allowed)),)
    declared: dict[str, frozenset[str]] = {}
    for name in [f"{a}.ipynb" for a in AREA_NOTEBOOKS] + [f"{CITY_NOTEBOOK}.ipynb"]:
        if name in inputs.notebook_files:
            declared[name] = parameter_names(inputs.notebooks / name)
    jobs: list[Job] = []
    rule_runs: dict[str, Job] = {}  # unit -> its rule-run job
    for unit in [*counties, ROLLUP]:
        if unit == ROLLUP:
            spec, areas = specs[ROLLUP], (CITY_NOTEBOOK,)
        else:
            spec, areas = specs["county"].model_copy(update={"county": unit}), tuple(AREA_NOTEBOOKS)
        everything = spec.notebook_parameters()
        everything.pop("out")
        for area in areas:
            if f"{area}.ipynb" not in inputs.notebook_files:
                raise BatchError(f"{inputs.notebooks / area}.ipynb: notebook not found")
        if any("rules_from" in declared[f"{a}.ipynb"] for a in areas):
            rule_runs[unit] = _rules_job(unit, run_dir, inputs, code, everything, options)
            jobs.append(rule_runs[unit])
        executed = []
        for area in areas:
            name = f"{area}.ipynb"
            # optional parameters go only to a notebook that declares them
            parameters = {k: v for k, v in everything.items() if k not in _OPTIONAL or k in declared[name]}
            waits: list[Job] = []
            if "rules_from" in parameters:
                waits = list(rule_runs.values()) if unit == ROLLUP else [rule_runs[unit]]
            fingerprint = json_digest(
                {
                    "job": f"{unit}/{area}",
                    "notebook": inputs.notebook_files[name],
                    "params": inputs.params_sha256,
                    "store": inputs.for_unit(unit),
                    "parameters": parameters,
                    "code": code,
                    "after": [j.fingerprint for j in waits],
                }
            )
            executed.append(
                Job(
                    key=f"{unit}/{area}",
                    kind="notebook",
                    unit=unit,
                    area=area,
                    run_dir=run_dir,
                    fingerprint=fingerprint,
                    notebook=inputs.notebooks / name,
                    parameters=tuple(sorted(parameters.items())),
                    env=env,
                    after=tuple(j.key for j in waits),
                    timeout=options.timeout,
                    lang=options.lang,
                    pii=options.pii,
                )
            )
        report = {
            "job": f"{unit}/{REPORT}",
            "needs": [j.fingerprint for j in executed],
            "lang": options.lang,
            "formats": list(options.formats or ()),
            "code": code,
        }
        jobs += [
            *executed,
            Job(
                key=f"{unit}/{REPORT}",
                kind="report",
                unit=unit,
                area=REPORT,
                run_dir=run_dir,
                fingerprint=json_digest(report),
                # the store, for the names a failure's text masks; the parameters file, for a template
                parameters=(("params", str(inputs.params)), ("store", str(inputs.store))),
                needs=tuple(j.key for j in executed),
                sources=tuple(f"{unit}/{j.area}.ipynb" for j in executed),
                timeout=options.timeout,
                lang=options.lang,
                formats=tuple(options.formats or ()),
                pii=options.pii,
            ),
        ]
    return jobs


_OPTIONAL = ("rules_from", "counties", "excluded")
"""Parameters a notebook gets only when its parameters cell declares them."""


def _rules_job(
    unit: str, run_dir: Path, inputs: Inputs, code: str, parameters: Mapping[str, Any], options: BatchOptions
) -> Job:
    fingerprint = json_digest(
        {
            "job": f"{unit}/{RULES}",
            "params": inputs.params_sha256,
            "store": inputs.for_unit(unit),
            "code": code,
            **({"excluded": list(parameters["excluded"])} if parameters.get("excluded") else {}),
        }
    )
    return Job(
        key=f"{unit}/{RULES}",
        kind="rules",
        unit=unit,
        area=RULES,
        run_dir=run_dir,
        fingerprint=fingerprint,
        # the roll-up's rules leave out the counties whose store files are damaged
        parameters=(
            ("params", parameters["params"]),
            ("store", parameters["store"]),
            *((("excluded", tuple(parameters["excluded"])),) if parameters.get("excluded") else ()),
        ),
        timeout=options.timeout,
        pii=options.pii,
    )
