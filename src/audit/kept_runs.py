"""A unit's rule run, computed once and kept on disk, so that every notebook of the unit reads it.

A county's three area notebooks each show the whole county (summary, sample), and the city
roll-up shows every county's findings: without a kept run the same rules would run four
times per county. The batch runs them once per unit in its worker process and writes::

    <run>/restricted/<unit>/rules/findings.parquet   the unit's findings register (every area)
                                  results.parquet    one row per rule: fired, clean or not run
                                  stamp.json         what the run was made from (written last)

(under ``restricted/``: the findings keep full personal data; see :mod:`audit.runfolder`).

``unit`` is a county code, or ``city`` for the roll-up's own run (the city-wide rules and
the city bureau's rows). A notebook given ``rules_from=<run>`` reads its unit's run from
there; with no kept run it runs the rules itself. A kept run whose stamp names another
store or parameters file is refused, never used.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from audit import __version__
from audit.datacontract import TABLES
from audit.exceptions import ParameterError
from audit.findings import combine_registers, read_register, write_register
from audit.params import Params, load_params, params_digest
from audit.rules import RuleRun, run_rules
from audit.rules.tables import JOINS, joined_rows
from audit.runfolder import KEPT_RUNS, kept_run_folder
from audit.store import MANIFEST, Store

FOLDER = KEPT_RUNS
"""The kept run's folder inside its unit's working folder."""
CITY = "city"
"""The roll-up's unit: its folder in a run is named after its notebook."""
_FINDINGS, _RESULTS, _STAMP = "findings", "results.parquet", "stamp.json"


class Tables(Mapping[str, "pd.DataFrame | None"]):
    """The contract's tables for some counties of a store, each read when first asked for.

    Reference lists are read whole. A table the store lacks is None. A chart needs two tables
    of ten, so a notebook reads only what it shows. With ``joins`` (for a rule run), a table
    of ``JOINS`` also holds the rows of other partitions its joins need, which the rules'
    partition keeps apart; without, only the counties' own rows (what a report counts).
    """

    def __init__(self, store: Store, counties: list[str] | None, *, joins: bool = True) -> None:
        self.store = store
        self.counties = counties
        self.joins = joins
        self._read: dict[str, pd.DataFrame | None] = {}

    def __getitem__(self, name: str) -> pd.DataFrame | None:
        if name not in TABLES:
            raise KeyError(name)
        if name not in self._read:
            whole = TABLES[name].reference or self.counties is None
            if not whole and self.joins and name in JOINS and self.store.has(name):
                self._read[name] = self._joined(name)
            else:
                self._read[name] = self.store.read(name, None if whole else self.counties)
        return self._read[name]

    def _joined(self, name: str) -> pd.DataFrame:
        """The counties' rows of ``name`` and the rows of other partitions their joins need (``JOINS``).

        The join columns are read first, city-wide; then only the partitions holding wanted
        rows (a roll of millions is not read whole for the few households another county paid).
        """
        joins = JOINS[name]
        index = self.store.read(name, columns=sorted({j.column for j in joins} | {"county_code"}))
        foreign = ~index["county_code"].isin(self.counties).to_numpy(dtype=bool)
        order = list(JOINS)
        # A table joined earlier in JOINS comes with its joined rows, one joined later with its
        # own only, as in the rules' partition: the joins run in order, never round in a circle.
        others = {
            j.other: self[j.other]
            if j.other not in JOINS or order.index(j.other) < order.index(name)
            else self.store.read(j.other, self.counties)
            for j in joins
            if j.other != name
        }
        keep = ~foreign | joined_rows(index, foreign, joins, others, {}, name)
        counties = sorted(set(index.loc[keep, "county_code"]) | set(self.counties))
        rows = self.store.read(name, counties)  # partitions in county order, as ``index``
        keep = keep[index["county_code"].isin(counties).to_numpy(dtype=bool)]
        return rows if keep.all() else rows.loc[keep].reset_index(drop=True)

    def __iter__(self) -> Iterator[str]:
        return iter(TABLES)

    def __len__(self) -> int:
        return len(TABLES)


def county_tables(store: Store, county: str, *, joins: bool = True) -> Tables:
    """Every table of the contract for one county (reference lists whole), read when first used.

    ``joins``: with the rows of other partitions the rules' joins need (for a rule run).
    """
    return Tables(store, [county], joins=joins)


def city_tables(store: Store, excluded: Collection[str] = ()) -> Tables:
    """Every table of the contract for the whole store, read when first used.

    ``excluded`` counties (their store files damaged) are left out: their partitions are never opened.
    """
    if not excluded:
        return Tables(store, None)
    # every readable county at once: the rules' partition joins among them (none reaches a damaged one)
    return Tables(store, [c for c in store.counties() if c not in set(excluded)], joins=False)


def run_county(tables: Mapping[str, pd.DataFrame | None], params: Params, county: str) -> RuleRun:
    """Every rule's county part on one county's rows."""
    return run_rules(tables, params, scope="county", county=county)


def run_city(tables: Mapping[str, pd.DataFrame | None], params: Params) -> RuleRun:
    """The roll-up's own run: the city-wide rules, and the city bureau's rows audited like a county's."""
    city = run_rules(tables, params, scope="city")
    bureau = run_county(tables, params, params.city_code)
    return RuleRun(
        findings=combine_registers([city.findings, bureau.findings]),
        results=pd.concat([city.results, bureau.results], ignore_index=True),
        scope="city",
        county=params.city_code,
    )


def made_from(store: Store, params_path: str | Path) -> dict[str, str]:
    """The inputs every unit's run shares: the store (its manifest hashes every file) and the parameters."""
    return {
        "store_manifest_sha256": hashlib.sha256((store.path / MANIFEST).read_bytes()).hexdigest(),
        "params_sha256": params_digest(params_path),
        "audit": __version__,
    }


def stamp(store: Store, params_path: str | Path, unit: str, excluded: Collection[str] = ()) -> dict[str, str]:
    """What a unit's run is made from: the unit, the store, the parameters (and counties left out)."""
    made = {"unit": unit, **made_from(store, params_path)}
    if excluded:
        made["excluded"] = ",".join(sorted(excluded))
    return made


def folder(run_dir: str | Path, unit: str) -> Path:
    """Where a run folder keeps ``unit``'s rule run (``restricted/<unit>/rules``)."""
    return kept_run_folder(run_dir, unit)


def save(run: RuleRun, where: Path, made_from: Mapping[str, str]) -> list[Path]:
    """Write a rule run into ``where``: findings and results, then its stamp, each byte-deterministic."""
    where.mkdir(parents=True, exist_ok=True)
    written = [write_register(run.findings, where, _FINDINGS, csv=False)["parquet"]]
    results = pa.Table.from_pandas(run.results, preserve_index=False)
    pq.write_table(results, where / _RESULTS, compression="zstd", write_statistics=False)
    written.append(where / _RESULTS)
    text = json.dumps(dict(made_from), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    partial = where / f".{_STAMP}.partial"
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, where / _STAMP)
    written.append(where / _STAMP)
    return written


def load(where: Path, expected: Mapping[str, str]) -> RuleRun | None:
    """The rule run kept in ``where``, or None if none; ParameterError if made from other inputs."""
    try:
        made_from = json.loads((where / _STAMP).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ParameterError(f"{where / _STAMP}: unreadable ({exc}); run the batch again") from None
    differ = [key for key in expected if made_from.get(key) != expected[key]]
    if differ:
        raise ParameterError(
            f"{where}: the rule run kept there was made from other inputs ({', '.join(differ)} differ); "
            "run the batch again, or set rules_from = None to run the rules in the notebook"
        )
    unit = made_from["unit"]
    return RuleRun(
        findings=read_register(where / f"{_FINDINGS}.parquet"),
        results=pq.read_table(where / _RESULTS).to_pandas(),
        scope="city" if unit == CITY else "county",
        county=None if unit == CITY else unit,
    )


def build(
    store_path: str | Path, params_path: str | Path, unit: str, where: Path, excluded: Collection[str] = ()
) -> list[Path]:
    """Run ``unit``'s rules (a county code, or :data:`CITY`) from the store and keep them in ``where``.

    The roll-up leaves ``excluded`` counties out (their store files are damaged).
    """
    store = Store.open(store_path)
    params = load_params(params_path)
    if unit == CITY:
        run = run_city(city_tables(store, excluded), params)
    else:
        run = run_county(county_tables(store, unit), params, unit)
    return save(run, where, stamp(store, params_path, unit, excluded if unit == CITY else ()))
