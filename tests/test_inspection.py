"""The facade: one county's sections, in the chosen language, masked, tagged for the report."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

from audit import inspection
from audit.document import Document
from audit.exceptions import ParameterError
from audit.findings import read_register
from fixtures import ROOT
from fixtures import store_builder as fx


@pytest.fixture(scope="module")
def place(store_place) -> dict[str, str]:
    return {"store": str(store_place / "store"), "out": str(store_place / "out")}


@pytest.fixture(scope="module")
def county(place) -> inspection.CountyInspection:
    return _open(place)


def _open(place, **kw) -> inspection.CountyInspection:
    return inspection.open_county(fx.COUNTY, store=place["store"], out=place["out"], run_id="t-1", **kw)


def test_bad_parameters_are_refused_when_a_notebook_opens_a_county(place):
    with pytest.raises(ParameterError, match="parameter 'county': 540199 is not a county"):
        inspection.open_county("540199", store=place["store"], out=place["out"])
    with pytest.raises(ParameterError, match="parameter 'lang'"):
        inspection.open_county(fx.COUNTY, store=place["store"], out=place["out"], lang="fr")
    with pytest.raises(ParameterError, match="roll-up takes the city's code 540100"):
        inspection.open_city(fx.COUNTY, store=place["store"], out=place["out"])


def test_findings_by_area_are_the_hand_counted_ones(county):
    assert county.findings()["rule_id"].value_counts().to_dict() == fx.EXPECTED_FINDINGS
    assert {a: len(county.findings(a)) for a in "CSF"} == fx.EXPECTED_BY_AREA
    assert len(county.findings("relief")) == 4  # notebook names work too
    with pytest.raises(ValueError, match="unknown area"):
        county.findings("X")


def _texts(part) -> str:
    return " ".join(Document(part.title, part.lang, (part,)).texts())


def test_the_title_block_names_the_county_period_and_run_and_says_data_are_masked(county):
    title = county.title_block()
    assert title.part == "title" and title.title == "社会救助政府购买服务与救助资金检查报告"
    assert title.meta["page_title"] == "社会救助政府购买服务与救助资金检查报告 城关区（540102）"
    text = _texts(title)
    for expected in ("城关区（540102）", "2020年1月1日 至 2020年12月31日", "t-1"):
        assert expected in text
    assert "已脱敏" in text and "banner" not in title.html


def test_a_full_pii_run_says_so_on_its_first_section(place):
    title = _open(place, pii="full").title_block()
    assert 'class="banner"' in title.html and "完整的个人信息" in title.html


def test_the_basic_facts_are_counted_from_the_data(county):
    basics = county.basic_facts()
    assert basics.part == "basics" and basics.blocks[0].title == "基本情况"
    text = _texts(basics)
    assert "<h2>一、基本情况</h2>" in basics.html
    for expected in ("购买服务合同", "救助对象名册", "全年发放救助金"):
        assert expected in text


def test_the_method_says_what_money_was_not_audited(county):
    # The built store quarantined no row (its log lists one, its quarantine files none).
    text = _texts(county.basis_and_method())
    assert "隔离 0 行" in text and "被隔离行涉及金额" not in text


def test_the_method_names_the_documents_the_rules_not_run_and_the_seed(county):
    method = county.basis_and_method()
    text = _texts(method)
    assert "《社会救助暂行办法》（国务院令第649号）" in text
    assert "F11" in text and "未运行" in text  # F11 did not run: too few payments
    assert "随机种子 20200507" in text


def test_problems_are_one_subsection_per_rule_by_severity_then_money(county):
    problems = county.problems()
    section = problems.blocks[0]
    assert section.title == "发现的主要问题"
    rules = [re.search(r"（(\w+)，", s.title).group(1) for s in section.blocks]
    # by hand: high C8 3,000.04 > F3 1,600.00 > F2 390.00; medium F5 1,506.00 > S4 0; low F8; info C9
    assert rules == ["C8", "F3", "F2", "F5", "S4", "F8", "C9"]
    f2 = next(s for s in section.blocks if "（F2，" in s.title)
    lead, basis, measure, table = f2.blocks[:4]
    assert lead.text == "经检查，发现“死亡后仍发放救助金”问题，涉及 1 名人员，发放 1 笔，金额共 390.00 元。"
    assert table.rows[0][1:] == ("2020年4月", "390.00", "死亡日期：2020年3月15日，救助类别：农村低保")
    assert basis.label == "依据：" and measure.label == "整改建议："
    assert fx.P3_ID not in _texts(problems) and fx.P3_ID[:6] + "********" + fx.P3_ID[-4:] in table.rows[0][0]


def test_the_findings_list_gives_every_finding_with_labelled_evidence_escaped(county):
    listing = county.findings_list()
    table = listing.blocks[0].blocks[0]
    assert listing.blocks[0].title == "附件1：问题清单" and len(table.rows) == 7
    c9 = next(r for r in table.rows if r[0] == "C9")
    assert "承接主体：拉萨市仁爱社会工作服务中心<img src=x onerror=alert(3)>" in c9[-1]
    assert "&lt;img src=x onerror=alert(3)&gt;" in listing.html and "<img src=x" not in listing.html
    text = _texts(listing)
    assert "{" not in text and '":' not in text and "amount_yuan" not in text


def test_recommendations_give_one_measure_per_rule_with_its_money(county):
    items = county.recommendations().blocks[0].blocks
    assert len(items) == 7 and items[0].text.startswith("1. 支付金额超过合同金额：")
    assert "（涉及金额 3,000.04 元）" in items[0].text


def test_an_english_run_has_english_headings(place):
    english = _open(place, lang="en")
    assert (
        english.title_block().title
        == "Inspection report: purchased social-assistance services and relief funds"
    )
    assert "<h2>1. Basic facts</h2>" in english.basic_facts().html
    assert english.problems().blocks[0].title == "Main problems found"
    assert "Attachment 2: Data quality" in english.quality_section().html
    assert "Attachment 3: Field-verification sample" in english.sample_section().html
    assert "Attachment 4: Provenance" in english.provenance().html


def test_charts_are_embedded_pictures_of_their_area(county):
    for kind, area in (("contracts", "C"), ("coverage", "S"), ("relief", "F")):
        chart = county.chart(kind)
        assert chart.area == area and chart.part == "basics"
        assert '<img src="data:image/svg+xml;base64,' in chart.html and 'alt="' in chart.html
    with pytest.raises(ValueError, match="unknown chart"):
        county.chart("pie")


def test_coverage_needs_someone_in_post_every_day_of_the_month():
    staff = pd.DataFrame(
        {
            "post_code": ["T1", "T2", "T2"],
            "hired_on": pd.to_datetime(["2020-03-15", "2020-01-01", "2020-06-16"]),
            "left_on": pd.to_datetime(["2020-10-31", "2020-06-15", None]),
        }
    )
    covered = inspection.coverage(staff, ["T1", "T2", "T3"], 2020)
    assert list(covered.columns) == [f"2020-{m:02d}" for m in range(1, 13)]
    assert covered.loc["T1"].tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0]
    assert covered.loc["T2"].tolist() == [1] * 12  # a handover on the 15th/16th keeps June covered (S1)
    assert covered.loc["T3"].tolist() == [0] * 12


def test_the_quality_section_groups_by_table_column_and_check_and_masks(county):
    quality = county.quality_section()
    assert quality.part == "quality" and quality.blocks[0].title == "附件2：数据质量"
    text = _texts(quality)
    assert fx.BAD_ID not in text and fx.BAD_ID[:6] + "********" + fx.BAD_ID[-4:] in text
    assert "隔离" in text and "救助对象名册" in text
    assert "<script" not in quality.html


def test_the_sample_prints_its_seed_and_always_visits_the_risky_households(county):
    sample = county.sample_section()
    assert "随机种子：20200507" in _texts(sample)
    table = sample.blocks[0].blocks[-1]
    # by hand: F8 names H1, F3 and F5 name H2, F2 names H3
    assert [(r[2], r[5]) for r in table.rows] == [("H1", "F8"), ("H2", "F3,F5"), ("H3", "F2")]


def test_provenance_cites_inputs_parameters_versions_and_revision(county):
    text = _texts(county.provenance())
    digest = hashlib.sha256((ROOT / "params" / "lhasa-2020.yaml").read_bytes()).hexdigest()
    assert f"params/lhasa-2020.yaml，SHA-256 {digest}" in text
    assert "pandas" in text and "20200507" in text
    assert re.search(r"代码版本：([0-9a-f]{40}|unknown)", text)
    assert "relief_payments.xlsx" in text


def test_saving_writes_the_areas_register_with_full_values_and_its_results(county, place):
    written = county.save_findings("F")
    assert written["parquet"] == Path(place["out"]).resolve() / "findings-F.parquet"
    register = read_register(written["parquet"])
    assert sorted(register["rule_id"]) == ["F2", "F3", "F5", "F8"]
    assert fx.P3_ID in " ".join(register["evidence"])  # restricted export: not masked
    results = pd.read_parquet(written["results"])
    assert set(results["area"]) == {"F"} and len(results) == 18  # the F rules with a county part


@pytest.fixture(scope="module")
def city(place) -> inspection.CityInspection:
    return inspection.open_city("540100", store=place["store"], out=place["out"], run_id="t-city")


def test_the_city_title_names_the_city(city):
    title = city.title_block()
    assert title.title == "全市汇总检查报告" and "<tr><th>市</th><td>540100</td></tr>" in title.html


def test_the_city_overview_ranks_the_counties_by_money_and_by_high_findings(city):
    overview = city.overview().blocks[0]
    by_amount, by_high, city_wide = overview.blocks[1:4]
    assert [r[1] for r in by_amount.blocks[0].rows] == ["堆龙德庆区", "城关区"]  # 72,878.67 > 7,296.04
    assert by_amount.blocks[0].rows[1] == ("2", "城关区", "7", "3", "7,296.04")
    assert [r[1] for r in by_high.blocks[0].rows] == ["城关区", "堆龙德庆区"]  # 3 high > 1
    rules = [re.search(r"（(\w+)，", s.title).group(1) for s in city_wide.blocks]
    assert sorted(rules) == sorted(fx.EXPECTED_CITY)
    assert city.register["rule_id"].value_counts().to_dict() == fx.EXPECTED_CITY


def test_the_city_links_every_county_report_in_every_format(city):
    links = city.county_reports().html
    assert '<a href="../540102/report.html">report.html</a>' in links
    assert '<a href="../540103/report.pdf">report.pdf</a>' in links
    assert '<a href="../540103/report.docx">report.docx</a>' in links
    assert '<img src="data:image/svg+xml;base64,' in city.chart().html
    detail = city.problems().blocks[0]
    assert detail.title == "各类问题情况" and len(detail.blocks) >= 2


def test_a_tracked_run_shows_each_findings_follow_up_and_flags_the_reopened_at_the_top(place):
    import json

    from audit.tracking import SNAPSHOT

    plain = _open(place)
    found = plain.findings()
    first, second = found.iloc[0], found.iloc[1]
    run = Path(place["out"]).parent / "tracked-run"
    run.mkdir(exist_ok=True)

    def state(status, rule_id, county=fx.COUNTY, unit="", deadline=""):
        return {"status": status, "unit": unit, "deadline": deadline, "rule_id": rule_id,
                "county_code": county, "since": 3}  # fmt: skip

    states = {
        first["finding_id"]: state("已整改", first["rule_id"], unit="城关区民政局", deadline="2021-06-30"),
        second["finding_id"]: state("整改中", second["rule_id"], unit="<b>某单位</b>", deadline="2021-09-30"),
        "00000000000000aa": state("属实", "C1"),  # no longer found: can be closed
        "00000000000000bb": state("属实", "C1", county="540199"),  # another county's
        "00000000000000cc": state("排除", "C1"),  # excluded: not listed
    }
    (run / SNAPSHOT).write_text(json.dumps({"states": states}), encoding="utf-8")
    county = _open(place, rules_from=str(run))
    view = county.follow_up().set_index("finding_id")
    assert view.index.tolist() == [*found["finding_id"], "00000000000000aa"]
    assert view.loc[first["finding_id"], "reopened"] and not view.loc[second["finding_id"], "reopened"]
    assert view["closable"].tolist() == [False] * len(found) + [True]
    assert (view.loc[found["finding_id"][2:], "status"] == "待核实").all()
    title = _texts(county.title_block())
    assert "整改未到位：1 个问题" in title and first["finding_id"] in title and "城关区民政局" in title
    measures = _texts(county.recommendations())
    assert "整改跟踪" in measures and "可销号：1 个问题" in measures and "00000000000000aa" in measures
    listing = county.findings_list()
    assert "整改时限" in _texts(listing) and "2021年9月30日" in _texts(listing)
    assert "&lt;b&gt;某单位&lt;/b&gt;" in listing.html
    assert "整改未到位" not in _texts(plain.title_block()) and "整改跟踪" not in _texts(
        plain.recommendations()
    )
