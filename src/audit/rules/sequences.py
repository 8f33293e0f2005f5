"""Rules C11 and F19: gaps and duplicates in document numbers that follow a numbering pattern.

Audit tools test document numbers for gaps (IDEA's gap detection): a voucher, contract or
payment number missing from a run may be a document removed from the books, and one used
twice a document entered twice. How a number is read:

- its running number is the digits at its end; what comes before is its prefix
  (``记-540102-2020-0007``: prefix ``记-540102-2020-``, number 7);
- where those digits are long (``5401022020010000001``: county, month, then a running
  number), the running number is their last *k* digits for the largest *k* at which every
  series of at least ``min_series_length`` numbers is at least half full (its numbers fill
  at least half of the range from its lowest to its highest); the digits before belong to
  the prefix;
- a series is the numbers of one prefix; only series of ``min_series_length`` numbers or more
  are tested, and only when ``min_pattern_share`` of the table's numbers end in digits.

A gap is a run of numbers missing between a series' lowest and highest (numbers before the
lowest cannot be told from a series that starts later). A duplicate is one running number
written more than once (``0007`` and ``7``, or one number on two rows). One finding per
series with a gap or a duplicate, entity ``series`` with the id ``<table>:<prefix><#...>``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from audit.params import Params
from audit.rules.evidence import finding_rows, no_findings
from audit.rules.measures import arrow_text
from audit.rules.registry import NotRun, Outcome, rule
from audit.rules.tables import Tables

_MAX_DIGITS = 18  # a running number is read as int64; longer digit runs keep their head in the prefix


def _numbering(p: Params):
    if p.numbering is None:
        raise NotRun(
            "未运行：参数文件中无编号连续性参数（numbering）",
            "not run: no numbering parameters in the parameters file (numbering)",
        )
    return p.numbering


def split_numbers(values: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Each value's text prefix, its trailing digits as an integer and their count (0: no digits)."""
    text = arrow_text(values)
    parts = pc.extract_regex(text, pattern=r"^(?P<head>.*?)(?P<digits>\d{1,18})$")
    matched = parts.is_valid()  # a value that does not end in digits gives a null struct
    digits = pc.if_else(matched, parts.field("digits"), "")
    head = pc.if_else(matched, parts.field("head"), "")
    ok = matched.to_numpy(zero_copy_only=False)
    number = pc.cast(pc.if_else(matched, digits, "0"), pa.int64()).to_numpy(zero_copy_only=False)
    width = np.where(ok, pc.utf8_length(digits).to_numpy(zero_copy_only=False), 0)
    return pd.Series(head.to_pandas(), index=values.index, dtype="str"), number, width.astype("int64")


def _runs(keys: list[np.ndarray]) -> np.ndarray:
    """Start flags of runs of equal keys in already sorted arrays."""
    n = len(keys[0])
    start = np.ones(n, dtype=bool)
    if n > 1:
        same = np.ones(n - 1, dtype=bool)
        for k in keys:
            same &= k[1:] == k[:-1]
        start[1:] = ~same
    return start


def series_of(
    values: pd.Series, min_length: int, split: tuple[pd.Series, np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int] | None:
    """Sorted order, series code per sorted row, running number per sorted row, digits k.

    None when no series of ``min_length`` numbers is found.
    """
    head, number, width = split_numbers(values) if split is None else split
    has = width > 0
    idx = np.flatnonzero(has)
    if len(idx) < min_length:
        return None
    pcode, _ = pd.factorize(head.to_numpy()[idx])
    num = number[idx]
    order = np.lexsort((num, pcode))
    pcode, num, idx = pcode[order], num[order], idx[order]
    longest = int(width[idx].max())
    for k in range(longest, 0, -1):
        scale = 10**k
        hi, lo = num // scale, num % scale
        start = _runs([pcode, hi])
        group = np.cumsum(start) - 1
        count = np.bincount(group)
        first = np.flatnonzero(start)
        last = np.r_[first[1:], len(num)] - 1
        span = lo[last] - lo[first] + 1
        tested = count >= min_length
        if not tested.any():
            continue
        if (count[tested] * 2 >= span[tested]).all():
            return idx, group, lo, k
    return None


def gap_findings(
    frame: pd.DataFrame, column: str, table: str, p: Params, county: str | None
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Findings for the series of ``frame[column]`` with gaps or duplicates, and notes."""
    cfg = _numbering(p)
    values = frame[column]
    split = split_numbers(values)
    share = float((split[2] > 0).mean()) if len(values) else 0.0
    if len(values) == 0 or share < cfg.min_pattern_share:
        return (
            no_findings(),
            [f"{table}.{column} 未检查：编号不符合统一规则（{share:.0%} 以数字结尾）"],
            [f"{table}.{column} not tested: no numbering pattern ({share:.0%} end in digits)"],
        )
    found = series_of(values, cfg.min_series_length, split)
    if found is None:
        return no_findings(), [], []
    idx, group, lo, k = found
    start = _runs([group])
    first = np.flatnonzero(start)
    last = np.r_[first[1:], len(group)] - 1
    count = np.bincount(group)
    dup = np.zeros(len(group), dtype=bool)
    dup[1:] = (group[1:] == group[:-1]) & (lo[1:] == lo[:-1])
    step = np.zeros(len(group), dtype="int64")
    step[1:] = np.where(group[1:] == group[:-1], lo[1:] - lo[:-1], 0)
    gap_at = np.flatnonzero(step > 1)
    bad = np.unique(np.r_[group[gap_at], group[dup]]).astype("int64")
    bad = bad[count[bad] >= cfg.min_series_length]
    if not len(bad):
        return no_findings(), [], []
    texts = values.astype("str").to_numpy()
    counties = frame["county_code"].to_numpy() if "county_code" in frame else None
    rows = []
    for g in bad:  # series with a problem: few
        a, b = first[g], last[g]
        prefix = _prefix_of(texts[idx[b]], k)
        mine = gap_at[np.searchsorted(gap_at, a + 1) : np.searchsorted(gap_at, b + 1)]
        gaps = [(int(lo[i - 1] + 1), int(lo[i] - 1)) for i in mine]
        missing = sum(y - x + 1 for x, y in gaps)
        repeated = (np.flatnonzero(dup[a + 1 : b + 1]) + a + 1).tolist()
        dups = sorted({texts[idx[i]] for i in repeated} | {texts[idx[i - 1]] for i in repeated})
        listed = [
            _number(prefix, x, k) if x == y else f"{_number(prefix, x, k)}~{_number(prefix, y, k)}"
            for x, y in gaps[: cfg.max_gaps_listed]
        ]
        rows.append(
            {
                "county": county if counties is None else counties[idx[a]],
                "entity": f"{table}:{prefix}{'#' * k}",
                "zh": f"{table} 编号 {prefix}{'#' * k}（{int(count[g])} 个，{_number(prefix, int(lo[a]), k)}"
                f"~{_number(prefix, int(lo[b]), k)}）"
                + (f"缺号 {missing} 个" if missing else "")
                + ("，" if missing and dups else "")
                + (f"重号 {len(dups)} 个" if dups else ""),
                "en": f"{table} numbers {prefix}{'#' * k} ({int(count[g])}, {_number(prefix, int(lo[a]), k)}"
                f" to {_number(prefix, int(lo[b]), k)}): "
                + ", ".join(
                    ([f"{missing} missing"] if missing else [])
                    + ([f"{len(dups)} used twice"] if dups else [])
                ),
                "evidence": {
                    "table": table,
                    "column": column,
                    "prefix": prefix,
                    "running_digits": k,
                    "numbers": int(count[g]),
                    "lowest": texts[idx[a]],
                    "highest": texts[idx[b]],
                    "missing": missing,
                    "missing_ranges": listed,
                    "ranges_not_listed": max(0, len(gaps) - cfg.max_gaps_listed),
                    "duplicates": dups,
                },
            }
        )
    rows.sort(key=lambda r: r["entity"])
    return (
        finding_rows(
            county_code=[r["county"] for r in rows],
            entity_id=[r["entity"] for r in rows],
            description_zh=[r["zh"] for r in rows],
            description_en=[r["en"] for r in rows],
            evidence=[r["evidence"] for r in rows],
        ),
        [],
        [],
    )


def _prefix_of(value: str, k: int) -> str:
    """``value`` without its running number (its last ``k`` digits, or fewer where it has fewer)."""
    digits = len(value) - len(value.rstrip("0123456789"))
    return value[: len(value) - min(digits, k)]


def _number(prefix: str, n: int, k: int) -> str:
    return f"{prefix}{n:0{k}d}"


@rule(
    "C11",
    title_zh="凭证号或合同编号不连续或重号",
    title_en="Gaps or duplicates in voucher or contract numbers",
    severity="low",
    entity_type="series",
    requires=("fund_payments", "contracts"),
    basis_zh="《会计基础工作规范》（记账凭证应连续编号）；审计分析性复核（连续性检查）",
    basis_en="Basic Accounting Work Norms (vouchers numbered in sequence); analytical review (gap test)",
    recommendation_zh="查明缺号、重号凭证或合同的去向，补充说明或更正账务。",
    recommendation_en="Account for every missing or repeated voucher or contract number; explain or "
    "correct the books.",
)
def document_number_gaps(t: Tables, p: Params) -> Outcome:
    """Voucher and contract numbers with gaps or repeats within a series."""
    county = t.county if t.county is not None else p.city_code
    parts, notes_zh, notes_en = [], [], []
    for table, column in (("fund_payments", "voucher_no"), ("contracts", "contract_id")):
        f, zh, en = gap_findings(t[table], column, table, p, county)
        parts.append(f)
        notes_zh += zh
        notes_en += en
    found = [f for f in parts if not f.empty]
    out = pd.concat(found, ignore_index=True) if found else no_findings()
    return Outcome(out, tuple(notes_zh), tuple(notes_en))


@rule(
    "F19",
    title_zh="救助金发放流水号不连续或重号",
    title_en="Gaps or duplicates in relief payment numbers",
    severity="low",
    entity_type="series",
    requires=("relief_payments",),
    basis_zh="{relief_rules}；审计分析性复核（连续性检查）",
    basis_en="{relief_rules}; analytical review (gap test)",
    recommendation_zh="查明缺号、重号流水的发放记录（含数据质量隔离的记录），核对银行代发明细。",
    recommendation_en="Account for each missing or repeated payment number (quarantined rows included) "
    "against the bank's disbursement list.",
)
def payment_number_gaps(t: Tables, p: Params) -> Outcome:
    """Payment numbers with gaps or repeats within a series."""
    county = t.county if t.county is not None else p.city_code
    f, zh, en = gap_findings(t["relief_payments"], "payment_id", "relief_payments", p, county)
    return Outcome(f, tuple(zh), tuple(en))
