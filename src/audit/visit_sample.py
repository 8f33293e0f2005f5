"""The field-verification (走访入户) sample: households an inspector visits at home.

Stratified by township and programme: in each stratum ``per_stratum`` enrolled households
are drawn at random, seeded, so a rerun with the same seed draws the same households. On
top of those, every household a finding of the relief rules (F1-F19) or S7 touches is
always visited; such a household does not use up its stratum's random draws.

Monetary-unit sampling (``verification_sample.method: monetary_unit``, ACL's SAMPLE by
amount) draws payments instead, each yuan paid having the same chance: the sample size is
``n = ceil(total paid x R / tolerable misstatement)`` with the reliability factor
``R = -ln(1 - confidence)`` (Poisson, no misstatement expected: 3.0 at 95 %); the payments are
laid end to end in payment-number order, and the one under each point ``start + k x total / n``
is drawn, the start random in the first interval (seeded). A payment larger than the interval
is always drawn. The households of the drawn payments are visited, besides the high-risk ones.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal

import numpy as np
import pandas as pd

from audit.exceptions import ParameterError
from audit.params import MonetaryUnit, Params

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
"""One row per household to visit; ``selection`` is ``high_risk``, ``random`` or ``monetary_unit``."""

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


def mus_sample_size(total_yuan: Decimal | float, mus: MonetaryUnit) -> int:
    """Payments to draw for a population of ``total_yuan``: ceil(total x -ln(1 - confidence) / tolerable)."""
    reliability = -math.log(1 - mus.confidence)
    return max(0, math.ceil(float(total_yuan) * reliability / float(mus.tolerable_misstatement_yuan) - 1e-9))


def monetary_unit_payments(payments: pd.DataFrame, mus: MonetaryUnit, seed: int) -> pd.DataFrame:
    """The payments drawn in proportion to amount, with ``hits``: how many points fell on each."""
    pay = payments.loc[payments["amount_yuan"].fillna(0).to_numpy() > 0]
    pay = pay.sort_values("payment_id", kind="mergesort").reset_index(drop=True)
    fen = np.rint(pay["amount_yuan"].to_numpy(dtype="float64") * 100).astype("int64")
    total = int(fen.sum())
    n = mus_sample_size(Decimal(total) / 100, mus)
    if n == 0 or total == 0:
        return pay.iloc[0:0].assign(hits=pd.Series([], dtype="int64"))
    interval = total / n
    start = np.random.default_rng(seed).random() * interval
    points = start + interval * np.arange(n)
    ends = np.cumsum(fen)  # payment i covers [ends[i] - fen[i], ends[i])
    rows = np.searchsorted(ends, points, side="right")
    rows = rows[rows < len(pay)]
    hits = np.bincount(rows, minlength=len(pay))
    chosen = np.flatnonzero(hits)
    return pay.iloc[chosen].assign(hits=hits[chosen]).reset_index(drop=True)


def draw_sample(
    beneficiaries: pd.DataFrame,
    findings: pd.DataFrame,
    params: Params,
    *,
    seed: int | None = None,
    payments: pd.DataFrame | None = None,
    method: str | None = None,
) -> pd.DataFrame:
    """The households to visit: high-risk ones, plus a stratified or a monetary-unit draw.

    ``method`` is ``stratified`` (``per_stratum`` households per township and programme) or
    ``monetary_unit`` (the households of payments drawn in proportion to amount; needs
    ``payments``); None takes the parameters file's.
    """
    vs = params.verification_sample
    seed = vs.seed if seed is None else int(seed)
    method = vs.method if method is None else method
    if method not in ("stratified", "monetary_unit"):
        raise ParameterError(f"unknown sampling method {method!r}; use stratified or monetary_unit")
    if method == "monetary_unit" and (vs.monetary_unit is None or payments is None):
        raise ParameterError(
            "monetary-unit sampling needs verification_sample.monetary_unit in the parameters file "
            "and the relief payments"
        )
    per = vs.per_stratum
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
    if method == "monetary_unit":
        drawn_hh = set(monetary_unit_payments(payments, vs.monetary_unit, seed)["household_id"])
        drawn = units.loc[units["household_id"].isin(drawn_hh) & units["rule_ids"].isna()]
        drawn = drawn.drop_duplicates("household_id").assign(selection="monetary_unit", rule_ids="")
    else:
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
