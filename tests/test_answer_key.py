"""The rules against the demo's answer key: every planted anomaly found, nothing else found.

This is the end-to-end check of issue 4: demo submission -> ingest -> store -> rules, county
by county on each county's own partition (as the county notebooks do) plus the city run (as
the roll-up does). Recall and precision must both be 1.0 for every rule, at the default seed
and at two others, and the amounts at stake must agree to the fen.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from audit import demo
from audit.datacontract import TABLES
from audit.findings import combine_registers
from audit.ingest import ingest
from audit.params import load_params
from audit.rules import RULES, run_rules
from audit.store import Store
from fixtures import PARAMS_FILE

PARAMS = load_params(PARAMS_FILE)
KEY = ["rule_id", "county_code", "entity_type", "entity_id"]
# After the audit year: no planted birth date or event is "in the future".
TODAY = dt.date(2021, 3, 1)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("answer_key")]


def _audit(store: Store) -> pd.DataFrame:
    """Every county run on its own partition, the city bureau's own run, and the city run."""
    runs = []
    for county in store.counties():
        tables = {
            name: store.read(name, counties=None if TABLES[name].reference else [county]) for name in TABLES
        }
        runs.append(run_rules(tables, PARAMS, scope="county", county=county).findings)
    everything = {name: store.read(name) for name in TABLES}
    runs.append(run_rules(everything, PARAMS, scope="city").findings)
    return combine_registers(runs)


@pytest.fixture(scope="module", params=[(demo.DEFAULT_SEED, "mixed"), (1, "parquet"), (2, "parquet")])
def audited(request, tmp_path_factory):
    seed, fmt = request.param
    folder = tmp_path_factory.mktemp(f"demo-{seed}")
    made = demo.generate(folder / "submission", PARAMS, seed=seed, fmt=fmt)
    result = ingest(folder / "submission", folder / "store", today=TODAY)
    findings = _audit(Store.open(folder / "store"))
    return seed, made.key, findings, result


def _per_rule(key: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    expected = set(map(tuple, key[KEY].astype(str).to_numpy()))
    found = set(map(tuple, findings[KEY].astype(str).to_numpy()))
    rows = []
    for rule in RULES.ids():
        e = {k for k in expected if k[0] == rule}
        f = {k for k in found if k[0] == rule}
        hit = len(e & f)
        rows.append(
            {
                "rule": rule,
                "expected": len(e),
                "found": len(f),
                "recall": hit / len(e) if e else 1.0,
                "precision": hit / len(f) if f else 1.0,
            }
        )
    return pd.DataFrame(rows)


def test_every_planted_anomaly_is_found_and_nothing_else(audited):
    seed, key, findings, _ = audited
    rules_key = key[key["rule_id"] != "DQ"]
    table = _per_rule(rules_key, findings)
    print(f"\nseed {seed}:\n{table.to_string(index=False)}")
    expected = set(map(tuple, rules_key[KEY].astype(str).to_numpy()))
    found = set(map(tuple, findings[KEY].astype(str).to_numpy()))
    assert sorted(expected - found) == [], "planted but not found"
    assert sorted(found - expected) == [], "found but not planted"
    assert (table["recall"] == 1.0).all() and (table["precision"] == 1.0).all()


def test_amounts_at_stake_agree_with_the_key_to_the_fen(audited):
    _, key, findings, _ = audited
    merged = key[key["rule_id"] != "DQ"].merge(
        findings[[*KEY, "amount_yuan"]].astype({"county_code": str}),
        on=KEY,
        suffixes=("_key", "_found"),
    )
    planted = pd.to_numeric(merged["amount_yuan_key"], errors="coerce")
    with_money = planted.notna()
    off = (planted[with_money] - merged.loc[with_money, "amount_yuan_found"]).abs() > 0.005
    assert merged.loc[with_money][off].empty, merged.loc[with_money][off].to_string()


def test_every_source_row_is_loaded_or_quarantined_and_quarantine_is_the_planted_defects(audited):
    _, key, _, result = audited
    quality = result.quality
    quarantined = quality[quality["action"] == "quarantined"]
    where = {
        f"{f}|{s if isinstance(s, str) else ''}|{int(r)}"
        for f, s, r in zip(quarantined["file"], quarantined["sheet"], quarantined["row"], strict=True)
    }
    planted = set(key.loc[key["rule_id"] == "DQ", "entity_id"])
    assert where == planted
    for source in result.manifest["sources"]:
        assert source["rows_read"] == (
            source["rows_loaded"] + source["rows_quarantined"] + source["rows_skipped"]
        ), source["path"]


def test_s9_reports_71_planned_township_positions_against_66_offices(audited):
    _, _, findings, _ = audited
    s9 = findings[findings["rule_id"] == "S9"]
    assert len(s9) == 1
    evidence = json.loads(s9["evidence"].iloc[0])
    assert evidence["planned_township_positions"] == 71
    assert evidence["township_offices_in_register"] == 66
    expected = "71 township positions planned, 66 township offices in the register"
    assert s9["description_en"].iloc[0] == expected
