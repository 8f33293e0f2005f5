"""Labels of the reports in Chinese and English.

Every word a reviewer reads that does not come from the data is here, keyed by a short
name, so a ``lang="en"`` run has English headings and a Chinese run has no English left.
Labels may hold ``str.format`` fields; both languages must name the same fields (a test checks).
"""

from __future__ import annotations

from typing import Literal

from audit import vocabulary as V

Lang = Literal["zh", "en"]
LANGS: tuple[str, ...] = ("zh", "en")

_LABELS: dict[str, tuple[str, str]] = {
    # title block
    "report.title": (
        "社会救助政府购买服务与救助资金检查报告",
        "Inspection report: purchased social-assistance services and relief funds",
    ),
    "report.city_title": ("全市汇总检查报告", "City roll-up inspection report"),
    "report.county": ("县（区）", "County"),
    "report.city": ("市", "City"),
    "report.period": ("检查期间", "Audit period"),
    "report.period_value": ("{start} 至 {end}", "{start} to {end}"),
    "report.run_id": ("运行编号", "Run id"),
    "report.date": ("报告日期", "Report date"),
    "report.masked": (
        "本报告中的个人信息（身份证号、姓名、银行账号）已脱敏。",
        "Personal data in this report (ID numbers, names, bank accounts) are masked.",
    ),
    "report.pii_full": (
        "警告：本报告显示完整的个人信息（身份证号、姓名、银行账号），仅限授权人员查阅，不得转发或公开。",
        "WARNING: this report shows personal data in full (ID numbers, names, bank accounts). "
        "Restricted to authorised staff; do not forward or publish.",
    ),
    # summary
    "summary.heading": ("摘要", "Summary"),
    "summary.by_severity": ("问题数（按严重程度和领域）", "Findings by severity and area"),
    "summary.money": ("涉及金额（元）", "Money at stake (yuan)"),
    "summary.rules": ("规则执行结果", "Rule results"),
    "summary.total": ("合计", "Total"),
    "summary.no_findings": ("未发现问题。", "No findings."),
    # follow-up (audit batch --track)
    "followup.heading": ("整改跟踪", "Follow-up of earlier findings"),
    "followup.reopened": (
        "整改未到位：{n} 个问题已报已整改，本次数据仍然发现，应重新整改。",
        "Not rectified: {n} findings reported as rectified are still found in this data and are reopened.",
    ),
    "followup.by_status": ("问题数（按整改状态）", "Findings by follow-up status"),
    "followup.closable": (
        "可销号：{n} 个问题本次数据已不再发现，可以销号（audit track close）。",
        "Can be closed: {n} findings are no longer found in this data (audit track close).",
    ),
    "followup.none_closable": ("没有可销号的问题。", "No finding can be closed."),
    "summary.unaudited": (
        "未经审计的数据（因无法读取或不可信而隔离的行及其金额）",
        "Not audited: rows quarantined because they could not be read or trusted, and their yuan",
    ),
    "summary.unaudited_none": (
        "所有数据均已审计：没有隔离的行。",
        "Every row was audited: none was quarantined.",
    ),
    # areas
    "area.C": ("购买服务合同与资金", "Purchased-service contracts and funding"),
    "area.S": ("乡镇民政所人员配备", "Staffing of township offices"),
    "area.F": ("救助资金使用", "Relief-fund use"),
    "area.findings": ("问题清单", "Findings"),
    "area.truncated": (
        "仅显示前 {shown} 条，共 {total} 条；完整清单见问题登记表。",
        "Showing the first {shown} of {total}; the findings register has them all.",
    ),
    # severities, statuses, actions
    "severity.high": ("高", "high"),
    "severity.medium": ("中", "medium"),
    "severity.low": ("低", "low"),
    "severity.info": ("提示", "info"),
    "status.fired": ("发现问题", "fired"),
    "status.clean": ("未发现问题", "clean"),
    "status.not_run": ("未运行", "not run"),
    "action.quarantined": ("隔离", "quarantined"),
    "action.repaired": ("修复", "repaired"),
    "action.flagged": ("标记", "flagged"),
    # column headers
    "col.rule_id": ("规则", "Rule"),
    "col.title": ("规则名称", "Rule title"),
    "col.area": ("领域", "Area"),
    "col.severity": ("严重程度", "Severity"),
    "col.status": ("状态", "Status"),
    "col.n_findings": ("问题数", "Findings"),
    "col.amount_yuan": ("涉及金额（元）", "Amount (yuan)"),
    "col.reason": ("说明", "Reason"),
    "col.township": ("乡镇", "Township"),
    "col.entity_type": ("对象类型", "Entity type"),
    "col.entity_id": ("对象", "Entity"),
    "col.description": ("描述", "Description"),
    "col.evidence": ("证据", "Evidence"),
    "col.finding_id": ("发现编号", "Finding ID"),
    "col.followup": ("整改状态", "Follow-up"),
    "col.owner": ("责任单位", "Responsible unit"),
    "col.deadline": ("整改时限", "Deadline"),
    "col.county": ("县（区）", "County"),
    "col.table": ("表", "Table"),
    "col.column": ("列", "Column"),
    "col.file": ("文件", "File"),
    "col.sheet": ("工作表", "Sheet"),
    "col.row": ("行", "Row"),
    "col.value": ("值", "Value"),
    "col.check": ("检查", "Check"),
    "col.message": ("说明", "Message"),
    "col.action": ("处理", "Action"),
    "col.rows": ("行数", "Rows"),
    "col.yuan": ("金额（元）", "Yuan"),
    "col.sha256": ("SHA-256", "SHA-256"),
    "col.rows_read": ("读取行数", "Rows read"),
    "col.rows_loaded": ("入库行数", "Rows loaded"),
    "col.rows_quarantined": ("隔离行数", "Rows quarantined"),
    "col.rows_skipped": ("跳过行数（空行、合计行）", "Rows skipped (blank, totals)"),
    "col.parameter": ("参数", "Parameter"),
    "col.package": ("软件包", "Package"),
    "col.version": ("版本", "Version"),
    "col.report": ("报告", "Report"),
    "col.programme": ("救助类别", "Programme"),
    "col.household_id": ("户编号", "Household"),
    "col.persons": ("人数", "Persons"),
    "col.selection": ("抽取方式", "Selection"),
    "col.rule_ids": ("相关规则", "Rules"),
    "selection.high_risk": ("高风险必访", "high risk, always visited"),
    "selection.random": ("随机抽取", "drawn at random"),
    "col.total": ("合计", "Total"),
    # data quality
    "quality.heading": ("数据质量", "Data quality"),
    "quality.summary": ("问题行按表和检查汇总", "Problem rows by table and check"),
    "quality.rows": ("问题行（前 {shown} 条，共 {total} 条）", "Problem rows (first {shown} of {total})"),
    "quality.none": ("未记录数据质量问题。", "No data-quality problems were logged."),
    # field verification
    "sample.heading": ("走访入户抽样", "Field-verification sample"),
    "sample.seed": (
        "随机种子：{seed}（以相同种子重新运行可抽取相同的户）",
        "Seed: {seed} (a rerun with the same seed draws the same households)",
    ),
    "sample.size": ("抽取 {n} 户", "{n} households drawn"),
    "sample.none": ("名册为空，无法抽样。", "The roll is empty: nothing to draw."),
    # provenance
    "provenance.heading": ("附录：数据来源与运行信息", "Appendix: provenance"),
    "provenance.inputs": ("输入文件", "Input files"),
    "provenance.params": ("参数", "Parameters"),
    "provenance.params_file": (
        "参数文件 {file}，SHA-256 {sha256}",
        "Parameters file {file}, SHA-256 {sha256}",
    ),
    "provenance.packages": ("软件版本", "Package versions"),
    "provenance.revision": ("代码版本：{revision}", "Code revision: {revision}"),
    "provenance.dirty": ("（含未提交的修改）", " (with uncommitted changes)"),
    "provenance.run_time": ("运行时间：{start}，用时 {seconds} 秒", "Run time: {start}, {seconds} s"),
    "provenance.store": ("数据库：{store}", "Store: {store}"),
    # charts
    "chart.coverage": (
        "乡镇民政所购买服务人员在岗情况（按月）",
        "Purchased staff in post by township office and month",
    ),
    "chart.covered": ("全月在岗", "in post all month"),
    "chart.uncovered": ("无人在岗", "nobody in post"),
    "chart.month": ("月份", "Month"),
    "chart.relief": ("救助金按月发放与下达资金", "Relief paid by month against the allocation"),
    "chart.paid": ("当月发放", "paid in the month"),
    "chart.cumulative": ("累计发放", "paid to date"),
    "chart.allocation": ("下达的救助资金", "relief allocation"),
    "chart.yuan": ("元", "yuan"),
    "chart.contracts": ("合同金额与预算", "Contract amounts against budget"),
    "chart.contract_amount": ("合同金额", "contract amount"),
    "chart.expected": ("岗位数 × 单价", "positions × unit cost"),
    "chart.budget": ("下达的购买服务资金", "purchase funds allocated"),
    "chart.counties": ("各县（区）问题数（按严重程度）", "Findings by county and severity"),
    "chart.county_money": ("各县（区）涉及金额", "Money at stake by county"),
    "chart.no_data": ("无数据：未提供{table}。", "No data: {table} was not supplied."),
    # city roll-up
    "city.by_county": ("各县（区）问题统计", "Findings by county"),
    "city.cross_county": ("跨县（区）及全市问题", "Cross-county and city-wide findings"),
    "city.comparison": ("县（区）比较", "County comparison"),
    "city.reports": ("各县（区）检查报告", "County reports"),
    "city.excluded": (
        "以下县（区）的数据存储已损坏，未纳入本汇总：{counties}。请重新运行 audit ingest 后再次检查。",
        "Left out of this roll-up, their store files damaged: {counties}. Run audit ingest again.",
    ),
    "city.open_report": ("打开报告", "open report"),
}


def label(key: str, lang: str, **fields: object) -> str:
    """The label ``key`` in ``lang``, with ``fields`` filled in."""
    try:
        zh, en = _LABELS[key]
    except KeyError:
        raise KeyError(f"no label {key!r}") from None
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; allowed: {', '.join(LANGS)}")
    text = zh if lang == "zh" else en
    return text.format(**fields) if fields else text


def has_label(key: str) -> bool:
    """Whether ``key`` names a label."""
    return key in _LABELS


def label_keys() -> tuple[str, ...]:
    """Every label key."""
    return tuple(_LABELS)


FOLLOW_UP_LABELS: dict[str, dict[str, str]] = {
    "zh": {s: s for s in (*V.FOLLOW_UP_STATUSES, V.REOPENED, V.CLOSABLE)},
    "en": {
        V.PENDING: "to verify",
        V.CONFIRMED: "confirmed",
        V.EXCLUDED: "excluded",
        V.RECTIFYING: "rectifying",
        V.RECTIFIED: "rectified",
        V.CLOSED: "closed",
        V.REOPENED: "not rectified (reopened)",
        V.CLOSABLE: "can be closed",
    },
}
"""How a list or a report writes each follow-up status (and the two states a run adds), by language."""
