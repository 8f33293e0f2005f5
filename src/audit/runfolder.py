"""A run folder's layout: where each file a run writes goes, and who may read it.

A run folder holds files of two readerships. What a reviewer reads has personal data masked:
the reports in every format, the masked findings list (``findings-masked.csv``/``.xlsx``) and
the index. The restricted exports keep full ID numbers, names and bank accounts for the
inspectors who act on them, and live under ``restricted/``: the index never links them and
``audit publish`` never copies them::

    <run>/
      index.html  manifest.json  signoffs.json  followup.json
      findings-masked.csv|xlsx          every finding, masked and neutralised (reviewers)
      <unit>/report.html|pdf|docx       the unit's report (reviewers)
      <unit>/<area>.ipynb, results-*    executed notebooks, rule results (working files)
      restricted/findings.parquet|csv|xlsx        the combined register (xlsx: the rectification list)
      restricted/<unit>/findings-*.parquet|csv    the unit's register
      restricted/<unit>/rules/                    the unit's kept rule run (audit.kept_runs)

Runs written before the split kept the registers beside the reports; the readers here find
them there too.
"""

from __future__ import annotations

from pathlib import Path

RESTRICTED = "restricted"
"""The run folder's folder of exports with full personal data."""
COMBINED = "findings"
"""Stem of the combined register (restricted) in ``restricted/``."""
MASKED_FINDINGS = "findings-masked"
"""Stem of the reviewers' findings list at the run folder's top: ``.csv`` and ``.xlsx``."""
_UNIT_REGISTER = "findings-"  # a unit's register: findings-C.parquet, findings-city.csv, ...
KEPT_RUNS = "rules"
"""A unit's kept rule run's folder (audit.kept_runs): full values."""


def unit_path(unit: str, rel: str) -> str:
    """Where a file of ``unit``'s job (``rel`` inside its working folder) goes in the run folder.

    A unit's findings registers and its kept rule run carry full personal data: they go under
    ``restricted/<unit>/``; everything else (reports, notebooks, results) under ``<unit>/``.
    """
    first, _, rest = rel.partition("/")
    if (first == KEPT_RUNS and rest) or (not rest and first.startswith(_UNIT_REGISTER)):
        return f"{RESTRICTED}/{unit}/{rel}"
    return f"{unit}/{rel}"


def is_restricted(rel: str) -> bool:
    """Whether ``rel`` (relative to the run folder, ``/`` separated) is a restricted export."""
    return rel.split("/", 1)[0] == RESTRICTED


def combined_register(run_dir: str | Path, suffix: str = ".parquet") -> Path:
    """The run's combined register (full values) with ``suffix``; where older runs kept it, if there."""
    path = Path(run_dir) / RESTRICTED / f"{COMBINED}{suffix}"
    older = Path(run_dir) / f"{COMBINED}{suffix}"
    return older if not path.exists() and older.exists() else path


def kept_run_folder(run_dir: str | Path, unit: str) -> Path:
    """Where a run folder keeps ``unit``'s rule run; where older runs kept it, if there."""
    path = Path(run_dir) / RESTRICTED / unit / KEPT_RUNS
    older = Path(run_dir) / unit / KEPT_RUNS
    return older if not path.exists() and older.exists() else path
