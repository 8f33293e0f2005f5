"""Rule F18: suspected duplicate people on the roll (one person entered under two ID numbers).

Audit tools call this fuzzy duplicate detection (ACL's FUZZYDUP). Chinese and transliterated
Tibetan names vary in their characters for one person (扎西 / 扎喜) while their sound stays,
so names are matched on characters and on pinyin, never alone: two entries are suspected
duplicates when their ID numbers differ but

- the birth dates written in the ID numbers (digits 7-14) are the same,
- the names are the same, sound the same (the same pinyin, tones ignored; when
  ``match_pinyin``) or are at most ``max_name_edits`` characters apart (Levenshtein), and
- they are enrolled in the same township or paid into the same bank account.

A finding is a suspicion for field verification, never a confirmed duplicate; its severity is
``relief.near_duplicates.severity`` (info or low). One finding per pair of persons, entity
``person`` with the id ``<lower ID>/<higher ID>``. Candidates are found by joining on (birth
date, township) and (birth date, account), so only those pairs have their names compared:
a county of a hundred thousand people gives a few thousand pairs.
"""

from __future__ import annotations

import pandas as pd
from rapidfuzz.distance import Levenshtein

from audit.params import Params
from audit.rules.evidence import finding_rows, no_findings, records, sources
from audit.rules.measures import group_keys, within
from audit.rules.registry import NotRun, rule
from audit.rules.tables import Tables

_COLUMNS = ["person_id", "name", "household_id", "division_code", "bank_account", "county_code"]


def birth_dates(person_ids: pd.Series) -> pd.Series:
    """The birth date written in each 18-character resident ID (``YYYYMMDD``, digits 7-14)."""
    return person_ids.str.slice(6, 14)


def pinyin(name: str) -> str:
    """A name's pinyin without tones, syllables separated by spaces (扎西 and 扎喜: ``zha xi``)."""
    # start-up time: pypinyin's dictionaries take 0.3 s to import, in every notebook that
    # imports the catalogue; only F18's name comparison needs them
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(name))


def name_match(a: str, b: str, *, max_edits: int, match_pinyin: bool) -> str | None:
    """How two names match: ``same``, ``homophone``, ``edit`` (within ``max_edits``), or None."""
    if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
        return None
    if a == b:
        return "same"
    if match_pinyin and pinyin(a) == pinyin(b):
        return "homophone"
    if max_edits and Levenshtein.distance(a, b, score_cutoff=max_edits) <= max_edits:
        return "edit"
    return None


def candidate_pairs(people: pd.DataFrame) -> pd.DataFrame:
    """Pairs of persons (``a`` < ``b``) born the same day in one township or paid into one account."""
    people = people.assign(birth=birth_dates(people["person_id"]))
    parts = []
    for key, label in (("division_code", "same_township"), ("bank_account", "same_account")):
        side = people.loc[people[key].notna().to_numpy(), ["person_id", "birth", key]].drop_duplicates()
        dup = side.loc[pd.Series(group_keys(side, ["birth", key])).duplicated(keep=False).to_numpy()]
        if dup.empty:
            continue
        pairs = dup.merge(dup, on=["birth", key], suffixes=("_a", "_b"))
        pairs = pairs.loc[pairs["person_id_a"] < pairs["person_id_b"], ["person_id_a", "person_id_b"]]
        parts.append(pairs.assign(**{label: True}))
    if not parts:
        return pd.DataFrame({"person_id_a": [], "person_id_b": [], "links": []}, dtype=object)
    out = pd.concat(parts, ignore_index=True)
    flags = [c for c in ("same_township", "same_account") if c in out]
    out = out.assign(**{c: out[c].eq(True).to_numpy(dtype=bool) for c in flags})  # bool: cython max
    out = out.groupby(["person_id_a", "person_id_b"], sort=True)[flags].max()
    links = [[c for c, on in zip(flags, row, strict=True) if on] for row in out.to_numpy(dtype=bool)]
    return out.reset_index()[["person_id_a", "person_id_b"]].assign(links=links)


@rule(
    "F18",
    title_zh="疑似重复登记的救助对象",
    title_en="Suspected duplicate people on the roll (different ID numbers, same person?)",
    severity="low",
    entity_type="person",
    requires=("beneficiaries",),
    basis_zh="{relief_rules}；审计分析性复核（模糊重复查找）",
    basis_en="{relief_rules}; analytical review (fuzzy duplicates)",
    recommendation_zh="入户核实是否为同一人：如是，注销重复身份登记并追回重复发放的资金。",
    recommendation_en="Verify at home whether they are one person; if so, cancel the duplicate entry and "
    "recover what it was paid.",
)
def near_duplicate_people(t: Tables, p: Params) -> pd.DataFrame:
    """Pairs of persons with different IDs, one birth date, matching names, one township or account."""
    nd = p.relief.near_duplicates
    if nd is None:
        raise NotRun(
            "未运行：参数文件中无疑似重复人员参数（relief.near_duplicates）",
            "not run: no near-duplicate parameters in the parameters file (relief.near_duplicates)",
        )
    roll = t["beneficiaries"]
    pairs = candidate_pairs(roll[_COLUMNS])
    if pairs.empty:
        return no_findings()
    names = roll.drop_duplicates("person_id").set_index("person_id")["name"]
    how = [
        name_match(names.get(a), names.get(b), max_edits=nd.max_name_edits, match_pinyin=nd.match_pinyin)
        for a, b in zip(pairs["person_id_a"], pairs["person_id_b"], strict=True)
    ]
    pairs = pairs.assign(name_match=how)
    pairs = pairs.loc[pairs["name_match"].notna()].reset_index(drop=True)
    if pairs.empty:
        return no_findings()
    involved = roll.loc[within(roll["person_id"], pd.concat([pairs["person_id_a"], pairs["person_id_b"]]))]
    involved = involved.sort_values(["person_id", "programme"], kind="mergesort")
    cited = pd.Series(sources(involved, "beneficiaries"), index=involved.index, dtype=object)
    entries: dict[str, list[dict]] = {}
    for q, r, s in zip(
        involved["person_id"],
        records(
            involved, ["name", "household_id", "division_code", "programme", "bank_account", "enrolled_on"]
        ),
        cited,
        strict=True,
    ):
        entries.setdefault(q, []).append({**r, "source": s})
    first = involved.drop_duplicates("person_id").set_index("person_id")
    a, b = pairs["person_id_a"], pairs["person_id_b"]
    ids = a + "/" + b
    label_zh = {"same": "姓名相同", "homophone": "姓名同音", "edit": "姓名相近"}
    label_en = {"same": "same name", "homophone": "names sound alike", "edit": "names one edit apart"}
    link_zh = {"same_township": "同一乡镇", "same_account": "同一银行账户"}
    link_en = {"same_township": "same township", "same_account": "same bank account"}
    evidence = [
        {
            "person_ids": [x, y],
            "birth_date": x[6:14],
            "name_match": m,
            "links": links,
            "household_ids": sorted({e["household_id"] for e in entries[x] + entries[y]}),
            "persons": {x: entries[x], y: entries[y]},
            "status": "suspected",
        }
        for x, y, m, links in zip(a, b, pairs["name_match"], pairs["links"], strict=True)
    ]
    frame = finding_rows(
        county_code=first["county_code"].reindex(a).to_numpy(),
        township_code=first["division_code"].reindex(a).to_numpy(),
        entity_id=ids,
        description_zh=[
            f"疑似重复登记（待核实）：两个身份证号出生日期相同、{label_zh[m]}、"
            + "、".join(link_zh[k] for k in links)
            for m, links in zip(pairs["name_match"], pairs["links"], strict=True)
        ],
        description_en=[
            f"suspected duplicate (to verify): two ID numbers with one birth date, {label_en[m]}, "
            + ", ".join(link_en[k] for k in links)
            for m, links in zip(pairs["name_match"], pairs["links"], strict=True)
        ],
        evidence=evidence,
    )
    frame["severity"] = nd.severity
    return frame
