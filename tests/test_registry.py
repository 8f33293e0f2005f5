"""The rule registry: the catalogue's 40 rules with their metadata; duplicates and unknown ids refused."""

from __future__ import annotations

import pytest

from audit.exceptions import RuleError
from audit.params import load_params
from audit.rules import RULES, RuleRegistry, rule
from audit.rules.evidence import no_findings
from fixtures import PARAMS_FILE

# From shared/RULES.md, written out by hand.
SEVERITY = {
    "C1": "high", "C2": "medium", "C3": "medium", "C4": "high", "C5": "high", "C6": "medium",
    "C7": "high", "C8": "high", "C9": "info", "C10": "medium", "C11": "low",
    "S1": "high", "S2": "medium", "S3": "low", "S4": "medium", "S5": "high", "S6": "high",
    "S7": "medium", "S8": "medium", "S9": "info", "S10": "medium",
    "F1": "high", "F2": "high", "F3": "high", "F4": "high", "F5": "medium", "F6": "high",
    "F7": "medium", "F8": "low", "F9": "medium", "F10": "medium", "F11": "info",
    # issue 19: joins with other departments' lists, near-duplicate people, number gaps
    "F12": "high", "F13": "high", "F14": "high", "F15": "high", "F16": "medium", "F17": "high",
    "F18": "low", "F19": "low",
}  # fmt: skip
# From docs/architecture.md (S5 also raises "person" rows).
ENTITY = {
    **dict.fromkeys(["C1", "C2", "C3", "C7", "C8", "C9", "C10"], "contract"),
    **dict.fromkeys(["C4", "C6", "F10", "F11"], "county"),
    **dict.fromkeys(["C5", "S3", "S9"], "city"),
    **dict.fromkeys(["S1", "S2", "S8", "S10"], "office"),
    **dict.fromkeys(["S4", "S5", "S6", "S7"], "staff"),
    **dict.fromkeys(["F1", "F2", "F3", "F8"], "payment"),
    **dict.fromkeys(["F4", "F6", "F16", "F17", "F18"], "person"),
    **dict.fromkeys(["F12", "F13", "F14", "F15"], "household"),
    **dict.fromkeys(["C11", "F19"], "series"),
    "F5": "household",
    "F7": "account",
    "F9": "programme",
}
CITY_PARTS = {"C4", "C5", "S3", "S5", "S9", "F4", "F7", "F9"}
CITY_ONLY = {"C5", "S3", "S9", "F9"}


def test_the_catalogue_has_forty_rules_in_order():
    assert RULES.ids() == (
        "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10", "C11",
        "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10",
        "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11",
        "F12", "F13", "F14", "F15", "F16", "F17", "F18", "F19",
    )  # fmt: skip
    assert len(RULES) == 40


def test_severities_and_entities_follow_the_catalogue():
    assert {r.id: r.severity for r in RULES} == SEVERITY
    assert {r.id: r.entity_type for r in RULES} == ENTITY
    assert {r.id: r.area for r in RULES} == {k: k[0] for k in SEVERITY}


def test_scopes():
    assert {r.id for r in RULES if "city" in r.scopes} == CITY_PARTS
    assert {r.id for r in RULES if "county" not in r.scopes} == CITY_ONLY
    assert [r.id for r in RULES.select(area="S", scope="city")] == ["S3", "S5", "S9"]


def test_every_rule_has_texts_in_both_languages():
    for r in RULES:
        for text in (
            r.title_zh,
            r.title_en,
            r.basis_zh,
            r.basis_en,
            r.recommendation_zh,
            r.recommendation_en,
        ):
            assert text.strip(), r.id


def test_texts_quote_the_parameters_and_leave_no_placeholder():
    params = load_params(PARAMS_FILE)
    for r in RULES:
        for lang in ("zh", "en"):
            texts = r.texts(params, lang)
            for text in (texts.title, texts.basis, texts.recommendation):
                assert "{" not in text and "}" not in text, (r.id, lang, text)
    c5 = RULES["C5"].texts(params, "zh").basis
    assert c5 == (
        "拉萨市2020年政府购买基层社会救助服务方案（从社会救助专项资金中列支，不超过下达总额的4%）；"
        "民发〔2017〕153号；藏财综〔2017〕2号"
    )
    assert RULES["C3"].texts(params, "en").basis == (
        "Lhasa's 2020 purchase plan (方案), approved 2020-01-09 "
        "(79,504 yuan a position-year, 6,280,816 yuan in all)"
    )
    assert RULES["C3"].texts(params, "zh").basis.endswith("（每岗位每年79,504元，共628.0816万元）")
    assert RULES["F5"].texts(params, "zh").basis.endswith("；西藏自治区2020年保障标准")


def test_rule_texts_hold_no_city_year_figure_or_document_of_their_own():
    # They quote the parameters file instead: another city's file changes every one of them.
    words = (
        "拉萨",
        "西藏",
        "Lhasa",
        "Tibet",
        "2020",
        "540100",
        "4%",
        "79,504",
        "79504",
        "628.0816",
        "6,280,816",
    )
    words += ("民发", "藏财", "财政部令", "暂行办法", "Order No")
    for r in RULES:
        for text in (
            r.title_zh,
            r.title_en,
            r.basis_zh,
            r.basis_en,
            r.recommendation_zh,
            r.recommendation_en,
        ):
            found = [w for w in words if w in text]
            assert not found, (r.id, found, text)


def test_a_text_quoting_an_unknown_word_is_refused_at_registration():
    with pytest.raises(RuleError, match=r"quotes unknown \['plan_title'\]"):
        rule(
            "C20",
            title_zh="题",
            title_en="title",
            severity="low",
            entity_type="contract",
            requires=("contracts",),
            basis_zh="{plan_title}",
            basis_en="basis",
            recommendation_zh="建议",
            recommendation_en="advice",
            registry=RuleRegistry(),
        )(lambda t, p: None)


def test_unknown_id_is_refused_naming_the_known_ones():
    with pytest.raises(RuleError, match=r"unknown rule 'C99'.*C1, C2"):
        RULES["C99"]


def _register(registry, rule_id="C1", **changes):
    meta = dict(
        title_zh="测试",
        title_en="test",
        severity="high",
        entity_type="contract",
        requires=("contracts",),
        basis_zh="依据",
        basis_en="basis",
        recommendation_zh="建议",
        recommendation_en="advice",
        registry=registry,
    )
    return rule(rule_id, **{**meta, **changes})(lambda t, p: no_findings())


def test_duplicate_id_is_refused():
    registry = RuleRegistry()
    _register(registry)
    with pytest.raises(RuleError, match="C1 is already registered"):
        _register(registry)
    assert len(registry) == 1


@pytest.mark.parametrize(
    ("rule_id", "changes", "message"),
    [
        ("X1", {}, "not an area letter"),
        ("C1", {"severity": "urgent"}, "severity 'urgent'"),
        ("C1", {"entity_type": "thing"}, "entity type 'thing'"),
        ("C1", {"requires": ("contract",)}, "unknown tables"),
        ("C1", {"optional": ("death",)}, "unknown tables"),
        ("C1", {"requires": ()}, "names no table"),
        ("C1", {"scope": "province"}, "unknown scope"),
    ],
)
def test_malformed_metadata_is_refused(rule_id, changes, message):
    with pytest.raises(RuleError, match=message):
        _register(RuleRegistry(), rule_id, **changes)


def test_a_second_part_of_the_same_scope_is_refused():
    registry = RuleRegistry()
    r = _register(registry)
    r.part("city")(lambda t, p: no_findings())
    assert r.scopes == ("county", "city")
    with pytest.raises(RuleError, match="already has a city-scope part"):
        r.part("city")(lambda t, p: no_findings())


def test_select_refuses_an_unknown_area():
    with pytest.raises(RuleError, match="unknown area 'X'"):
        RULES.select(area="X")
