"""The facade: one county's sections, in the chosen language, masked, tagged for the report."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

from audit import inspection
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


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


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


def test_the_title_block_names_the_county_period_and_run_and_says_data_are_masked(county):
    title = county.title_block()
    assert (
        title.section == "title"
        and title.meta["title"] == "社会救助政府购买服务与救助资金检查报告 城关区（540102）"
    )
    text = _text(title.html)
    for expected in (
        "社会救助政府购买服务与救助资金检查报告",
        "城关区（540102）",
        "2020-01-01 至 2020-12-31",
        "t-1",
    ):
        assert expected in text
    assert "已脱敏" in text and "audit-banner" not in title.html


def test_a_full_pii_run_says_so_on_its_first_section(place):
    title = _open(place, pii="full").title_block()
    assert 'class="audit-banner"' in title.html and "完整的个人信息" in title.html


def test_the_summary_counts_by_severity_and_area_and_gives_the_money(county):
    summary = county.summary()
    assert summary.section == "summary"
    rows = re.findall(r"<tr>(.*?)</tr>", summary.html, flags=re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows]
    by_label = {c[0]: c[1:] for c in cells if c}
    # hand count: high C8 F2 F3, medium S4 F5, low F8, info C9
    assert by_label["高"] == ["1", "0", "2", "3"]
    assert by_label["中"] == ["0", "1", "1", "2"]
    assert by_label["低"] == ["0", "0", "1", "1"]
    assert by_label["提示"] == ["1", "0", "0", "1"]
    assert by_label["合计"] == ["2", "1", "4", "7"]
    # money: C 3,000.04 (C8); F 390 + 1,600 + 1,506 + 800 = 4,296.00
    assert by_label["涉及金额（元）"] == ["3,000.04", "0.00", "4,296.00", "7,296.04"]
    assert by_label["F11"][1:3] == ["未运行", "0"]
    assert by_label["C8"][:3] == ["支付金额超过合同金额", "发现问题", "1"]


def test_the_summary_says_what_money_was_not_audited(county, city):
    # The built store quarantined no row (its log lists one, its quarantine files none).
    for html in (county.summary().html, city.summary().html):
        assert "未经审计的数据" in html and "所有数据均已审计：没有隔离的行。" in html


def test_an_area_section_has_its_heading_rules_and_escaped_masked_rows(county):
    contracts = county.findings_section("C")
    assert (contracts.section, contracts.area) == ("area", "C")
    assert "<h2>C 购买服务合同与资金</h2>" in contracts.html
    assert re.findall(r"<h3>(\w+) ", contracts.html) == ["C8", "C9"]
    assert "&lt;img src=x onerror=alert(3)&gt;" in contracts.html and "<img src=x" not in contracts.html
    relief = county.findings_section("F").html
    assert re.findall(r"<h3>(\w+) ", relief) == ["F2", "F3", "F5", "F8"]
    assert fx.P3_ID not in relief and fx.P3_ID[:6] + "********" + fx.P3_ID[-4:] in relief
    staffing = county.findings_section("S").html
    assert "ST-2" in staffing and "&lt;***" in staffing and "onerror" not in staffing  # the name masked


def test_an_english_run_has_english_headings(place):
    english = _open(place, lang="en")
    assert "<h1>Inspection report: purchased social-assistance services and relief funds</h1>" in (
        english.title_block().html
    )
    assert "<h2>Summary</h2>" in english.summary().html
    assert "<h2>C Purchased-service contracts and funding</h2>" in english.findings_section("C").html
    assert "<h2>Data quality</h2>" in english.quality_section().html
    assert "<h2>Field-verification sample</h2>" in english.sample_section().html
    assert "<h2>Appendix: provenance</h2>" in english.provenance().html


def test_charts_are_embedded_pictures_of_their_area(county):
    for kind, area in (("contracts", "C"), ("coverage", "S"), ("relief", "F")):
        chart = county.chart(kind)
        assert chart.area == area and '<img src="data:image/svg+xml;base64,' in chart.html
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


def test_the_quality_section_masks_the_values_it_shows(county):
    quality = county.quality_section()
    assert quality.section == "quality" and "<h2>数据质量</h2>" in quality.html
    assert fx.BAD_ID not in quality.html and fx.BAD_ID[:6] + "********" + fx.BAD_ID[-4:] in quality.html
    assert "隔离" in quality.html and "救助对象名册" in quality.html
    assert "<script" not in quality.html


def test_the_sample_prints_its_seed_and_always_visits_the_risky_households(county):
    sample = county.sample_section()
    assert "随机种子：20200507" in sample.html
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>.*?<td>([^<]*)</td></tr>", sample.html)
    # by hand: F8 names H1, F3 and F5 name H2, F2 names H3
    assert [(r[2], r[3]) for r in rows] == [("H1", "F8"), ("H2", "F3,F5"), ("H3", "F2")]


def test_provenance_cites_inputs_parameters_versions_and_revision(county):
    html = county.provenance().html
    digest = hashlib.sha256((ROOT / "params" / "lhasa-2020.yaml").read_bytes()).hexdigest()
    assert f"params/lhasa-2020.yaml，SHA-256 {digest}" in html
    assert "purchase.unit_cost_yuan" in html and "社会组织, 劳务公司" in html
    assert "<td>pandas</td>" in html and "<td>nbconvert</td>" in html
    assert re.search(r"代码版本：([0-9a-f]{40}|unknown)", html)
    assert "relief_payments.xlsx" in html and "20200507" in html


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
    assert "<h1>全市汇总检查报告</h1>" in title.html and "<tr><th>市</th><td>540100</td></tr>" in title.html


def test_the_city_summary_counts_each_county(city):
    html = city.summary().html
    rows = {
        r[0]: r[1:]
        for r in (re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", html))
        if r
    }
    assert rows["城关区（540102）"] == ["3", "2", "1", "1", "7", "7,296.04"]
    assert rows["堆龙德庆区（540103）"] == ["1", "0", "0", "1", "2", "72,878.67"]


def test_the_city_shows_the_cross_county_findings_and_links_every_county(city):
    findings = city.city_findings()
    assert findings.section == "city"
    assert re.findall(r"<h3>(\w+) ", findings.html) == list(fx.EXPECTED_CITY)
    assert city.register["rule_id"].value_counts().to_dict() == fx.EXPECTED_CITY
    links = city.county_reports().html
    assert '<a href="../540102/report.html">report.html</a>' in links
    assert '<a href="../540103/report.pdf">report.pdf</a>' in links
    assert '<img src="data:image/svg+xml;base64,' in city.chart().html


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
    title = county.title_block().html
    assert "整改未到位：1 个问题" in title and first["finding_id"] in title and "城关区民政局" in title
    summary = _text(county.summary().html)
    assert "整改跟踪" in summary and "可销号：1 个问题" in summary and "00000000000000aa" in summary
    area = county.findings_section(second["area"]).html
    assert "整改时限" in area and "2021-09-30" in area and "&lt;b&gt;某单位&lt;/b&gt;" in area
    assert "整改未到位" not in plain.title_block().html and "整改跟踪" not in plain.summary().html
