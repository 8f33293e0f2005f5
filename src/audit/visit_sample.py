"""The field-verification (走访入户) sample: households an inspector visits at home.

Stratified by township and programme: in each stratum ``per_stratum`` enrolled households
are drawn at random, seeded, so a rerun with the same seed draws the same households. On
top of those, every household a finding of the relief rules (F1-F11) or S7 touches is
always visited; such a household does not use up its stratum's random draws.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from audit.params import Params

SAMPLE_COLUMNS = (
    "county_code",
    "township_code",
    "programme",
    "household_id",
    "persons",
    "selection",
    "rule_ids",
    "seed",
)
"""One row per household to visit; ``selection`` is ``high_risk`` or ``random``."""

_STRATUM = ["county_code", "division_code", "programme"]


def _is_risk_rule(rule_id: str) -> bool:
    return rule_id.startswith("F") or rule_id == "S7"


def risky_households(findings: pd.DataFrame) -> pd.DataFrame:
    """Households named in the evidence of relief and S7 findings: ``household_id, rule_ids``."""
    relevant = findings.loc[findings["rule_id"].map(_is_risk_rule).astype(bool)]
    pairs = []
    for rule_id, text in zip(relevant["rule_id"], relevant["evidence"], strict=True):
        evidence = json.loads(text)
        named = [evidence.get("household_id"), *evidence.get("household_ids", [])]
        pairs.extend((h, rule_id) for h in named if h)
    if not pairs:
        return pd.DataFrame(
            {"household_id": pd.Series([], dtype="str"), "rule_ids": pd.Series([], dtype="str")}
        )
    frame = pd.DataFrame(pairs, columns=["household_id", "rule_id"]).drop_duplicates()
    ranked = frame.assign(_n=frame["rule_id"].str.slice(1).astype("int64"), _a=frame["rule_id"].str[0] != "F")
    ranked = ranked.sort_values(["household_id", "_a", "_n"])
    return ranked.groupby("household_id", as_index=False, sort=True).agg(rule_ids=("rule_id", ",".join))


def draw_sample(
    beneficiaries: pd.DataFrame, findings: pd.DataFrame, params: Params, *, seed: int | None = None
) -> pd.DataFrame:
    """The households to visit: high-risk ones, plus ``per_stratum`` drawn per township and programme."""
    seed = params.verification_sample.seed if seed is None else int(seed)
    per = params.verification_sample.per_stratum
    roll = beneficiaries.assign(_open=beneficiaries["exited_on"].isna())
    units = (
        roll.groupby([*_STRATUM, "household_id"], as_index=False, sort=True)
        .agg(persons=("person_id", "nunique"), enrolled=("_open", "any"))
        .astype({"persons": "int64"})
    )
    risk = risky_households(findings)
    units = units.merge(risk, on="household_id", how="left")
    high = units.loc[units["rule_ids"].notna()].assign(selection="high_risk")
    pool = units.loc[units["rule_ids"].isna() & units["enrolled"]].reset_index(drop=True)
    # One random key per candidate, in a fixed order: the same seed gives the same keys.
    keys = np.random.default_rng(seed).random(len(pool))
    pool = pool.assign(_key=keys).sort_values([*_STRATUM, "_key"], kind="mergesort")
    drawn = pool.loc[pool.groupby(_STRATUM, sort=False).cumcount() < per].drop(columns="_key")
    drawn = drawn.assign(selection="random", rule_ids="")
    sample = pd.concat([high, drawn], ignore_index=True).drop_duplicates("household_id", keep="first")
    sample = sample.rename(columns={"division_code": "township_code"}).assign(seed=seed)
    sample = sample.sort_values(
        ["county_code", "township_code", "programme", "household_id"], kind="mergesort"
    )
    out = sample[list(SAMPLE_COLUMNS)].reset_index(drop=True)
    out = out.astype({c: "str" for c in SAMPLE_COLUMNS if c not in ("persons", "seed")}).astype(
        {"persons": "int64", "seed": "int64"}
    )
    out.attrs["seed"] = seed
    return out
