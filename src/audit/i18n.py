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
    "provenance.heading": ("数据来源与运行信息", "Provenance"),
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
    # the inspection report's structure (issue 15)
    "doc.basics": ("基本情况", "Basic facts"),
    "doc.method": ("检查依据和方法", "Basis and method of the inspection"),
    "doc.problems": ("发现的主要问题", "Main problems found"),
    "doc.recommendations": ("整改意见汇总", "Summary of rectification measures"),
    "doc.overview": ("总体情况", "Overview"),
    "doc.rule_detail": ("各类问题情况", "Problems rule by rule"),
    "doc.appendix": ("附件{n}", "Attachment {n}"),
    "doc.appendix_title": ("附件{n}：{title}", "Attachment {n}: {title}"),
    "doc.findings_list": ("问题清单", "Complete list of findings"),
    "doc.no_problems": (
        "本次检查未发现问题。",
        "The inspection found no problems.",
    ),
    "doc.basis": ("依据：", "Basis: "),
    "doc.recommendation": ("整改建议：", "Recommendation: "),
    "doc.more_rows": (
        "表中列出前 {shown} 个，共 {total} 个；完整清单见附件1。",
        "The first {shown} of {total} are listed; attachment 1 lists them all.",
    ),
    "doc.problem_lead": (
        "经检查，发现{title}问题，涉及 {entities}{payments}{amount}。",
        "The inspection found: {title}. It concerns {entities}{payments}{amount}.",
    ),
    "doc.problem_payments": ("，发放 {n} 笔", ", {n} payments"),
    "doc.problem_amount": ("，金额共 {yuan} 元", ", {yuan} yuan in all"),
    "doc.rec_item": ("{title}：{text}", "{title}: {text}"),
    "doc.rec_amount": ("（涉及金额 {yuan} 元）", " ({yuan} yuan at stake)"),
    "doc.severity_of": ("问题性质：{severity}", "Severity: {severity}"),
    "entity.person": ("{n} 名人员", "{n} persons"),
    "entity.household": ("{n} 户", "{n} households"),
    "entity.contract": ("{n} 份合同", "{n} contracts"),
    "entity.office": ("{n} 个乡镇民政所", "{n} township offices"),
    "entity.staff": ("{n} 名工作人员", "{n} staff"),
    "entity.payment": ("{n} 笔发放", "{n} payments"),
    "entity.account": ("{n} 个银行账户", "{n} bank accounts"),
    "entity.county": ("{n} 个县（区）", "{n} counties"),
    "entity.city": ("全市", "the whole city"),
    "entity.programme": ("{n} 个救助类别", "{n} programmes"),
    "basics.offices": (
        "全县（区）共有乡镇（街道）民政所 {n} 个。",
        "The county has {n} township (street) offices.",
    ),
    "basics.contracts": (
        "购买服务合同 {n} 份，约定岗位 {positions} 个，合同金额共 {yuan} 元。",
        "{n} purchase contracts for {positions} positions, {yuan} yuan in all.",
    ),
    "basics.staff": (
        "购买服务人员花名册 {n} 人；每月在岗人数：{months}。",
        "{n} purchased staff on the register; in post by month: {months}.",
    ),
    "basics.coverage": (
        "全年 {covered} 个民政所每月均有人全月在岗，{gaps} 个存在无人在岗的月份。",
        "{covered} offices had someone in post all year; {gaps} had months with nobody in post.",
    ),
    "basics.roll": ("救助对象名册：{items}。", "Relief roll: {items}."),
    "basics.roll_item": (
        "{programme} {households} 户 {persons} 人",
        "{programme} {households} households, {persons} persons",
    ),
    "basics.payments": (
        "全年发放救助金 {n} 笔，共 {yuan} 元。",
        "{n} relief payments in the year, {yuan} yuan in all.",
    ),
    "basics.funds": ("资金下达与支出：{items}。", "Funds allocated and spent: {items}."),
    "basics.fund_item": (
        "{fund}（{purpose}）下达 {allocated} 元、支出 {spent} 元",
        "{fund} ({purpose}) allocated {allocated} yuan, spent {spent} yuan",
    ),
    "basics.no_data": ("未提供{table}。", "{table} was not supplied."),
    "basics.month_item": ("{month}月 {n} 人", "{month}: {n}"),
    "method.documents": ("检查依据以下文件：", "The inspection rests on these documents:"),
    "method.no_documents": (
        "参数文件未列出检查依据文件；各项问题的依据见第三部分。",
        "The parameters file lists no documents; each problem cites its basis in part 3.",
    ),
    "method.data": (
        "本次检查使用报送数据 {tables} 张表，读取 {read} 行，入库 {loaded} 行，隔离 {quarantined} 行。",
        "The submission had {tables} tables: {read} rows read, {loaded} loaded, {quarantined} quarantined.",
    ),
    "method.quarantined_yuan": (
        "被隔离行涉及金额 {yuan} 元，未纳入检查，详见附件2。",
        "Quarantined rows hold {yuan} yuan, left out of the checks (see attachment 2).",
    ),
    "method.approach": (
        "检查采用“集中分析、发现疑点、分散核实”的方法：对报送数据逐条运行 {run} 项检查规则，"
        "发现问题的 {fired} 项，未发现问题的 {clean} 项。",
        "The method is to analyse centrally, flag suspects and verify in the field: {run} rules ran "
        "over every row; {fired} found problems, {clean} found none.",
    ),
    "method.not_run": ("以下 {n} 项规则未运行：", "{n} rules did not run:"),
    "method.not_run_item": ("{rule}：{reason}", "{rule}: {reason}"),
    "method.sample": (
        "按乡镇和救助类别分层随机抽取 {n} 户入户核实（随机种子 {seed}，以相同种子重新运行可抽取相同的户），"
        "发现问题的户全部纳入，名单见附件3。",
        "{n} households are drawn for home visits, by township and programme (seed {seed}: a rerun "
        "with the same seed draws the same households); households with findings are always visited. "
        "Attachment 3 lists them.",
    ),
    "col.entity": ("对象", "Entity"),
    "col.seed": ("随机种子", "Seed"),
    "col.pii": ("个人信息", "Personal data"),
    "pii.masked": ("已脱敏", "masked"),
    "pii.full": ("完整显示（限授权人员）", "shown in full (authorised staff only)"),
    "col.months": ("月份", "Months"),
    "col.payments": ("笔数", "Payments"),
    "col.detail": ("情况", "Details"),
    "col.rank": ("排名", "Rank"),
    "col.high": ("高风险问题数", "High-severity findings"),
    "col.counties": ("涉及县（区）", "Counties"),
    "col.examples": ("示例", "Examples"),
    "col.recommendation": ("整改建议", "Recommendation"),
    "overview.lead": (
        "本次检查覆盖 {counties} 个县（区），发现问题 {n} 个，其中高风险 {high} 个，涉及金额共 {yuan} 元。",
        "The inspection covers {counties} counties: {n} findings, {high} of high severity, "
        "{yuan} yuan at stake.",
    ),
    "overview.by_amount": ("各县（区）按涉及金额排序", "Counties ranked by money at stake"),
    "overview.by_high": ("各县（区）按高风险问题数排序", "Counties ranked by high-severity findings"),
    "overview.city_wide": ("全市性及跨县（区）问题", "City-wide and cross-county problems"),
    "overview.rule_counties": (
        "{n} 个县（区）存在此问题：{counties}。",
        "{n} counties have this problem: {counties}.",
    ),
    "quality.grouped": (
        "下表按表、列和检查项汇总数据质量问题，每类列出示例；逐行明细见导出文件。",
        "Data-quality problems by table, column and check, with examples; every row is in the exports.",
    ),
    "report.masked_notice": ("脱敏说明", "Masking"),
    "field.source": ("来源", "Source"),
    "field.row_ref": ("{where} 第{row}行", "{where} row {row}"),
    "field.more": ("等 {n} 处", "and {n} more"),
    "bool.true": ("是", "yes"),
    "bool.false": ("否", "no"),
    # evidence fields: labels of the keys of a finding's evidence
    "field.after_staff_id": ("前任人员编号", "Previous staff id"),
    "field.allocated_by_county_yuan": ("各县（区）下达金额（元）", "Allocated by county (yuan)"),
    "field.allocated_yuan": ("下达金额（元）", "Allocated (yuan)"),
    "field.allocations": ("资金文号", "Allocations"),
    "field.allowed_days": ("允许空缺天数", "Days allowed vacant"),
    "field.amount_yuan": ("金额（元）", "Amount (yuan)"),
    "field.area": ("城乡类别", "Area"),
    "field.bank_account": ("银行账号", "Bank account"),
    "field.budgeted_funds_yuan": ("工作经费（元）", "Budgeted funds (yuan)"),
    "field.by_county": ("各县（区）", "By county"),
    "field.by_programme": ("各救助类别", "By programme"),
    "field.cap_share": ("上限比例", "Cap share"),
    "field.cap_yuan": ("上限金额（元）", "Cap (yuan)"),
    "field.ceiling_yuan": ("上限金额（元）", "Ceiling (yuan)"),
    "field.concurrent_pairs": ("同时在岗人员", "Staff in post together"),
    "field.contract_id": ("合同编号", "Contract"),
    "field.contract_positions": ("合同岗位数", "Contract positions"),
    "field.contract_source": ("合同来源", "Contract source"),
    "field.contracted_yuan": ("合同金额（元）", "Contracted (yuan)"),
    "field.contractor_name": ("承接主体", "Contractor"),
    "field.contractor_registered_on": ("承接主体登记日期", "Contractor registered on"),
    "field.contractor_type": ("承接主体类型", "Contractor type"),
    "field.contractor_uscc": ("统一社会信用代码", "Credit code"),
    "field.contracts": ("合同", "Contracts"),
    "field.counties": ("县（区）", "Counties"),
    "field.county_budget_allocated_yuan": ("县级预算安排（元）", "County budget allocated (yuan)"),
    "field.county_code": ("县（区）", "County"),
    "field.days_late": ("逾期天数", "Days late"),
    "field.deadline": ("应发放日期", "Deadline"),
    "field.dedicated_officer": ("有专职人员", "Dedicated officer"),
    "field.died_on": ("死亡日期", "Died on"),
    "field.division_code": ("乡镇（街道）", "Township"),
    "field.duplicate_of": ("重复的发放编号", "Duplicate of"),
    "field.education": ("学历", "Education"),
    "field.employer": ("工作单位", "Employer"),
    "field.enrolled_on": ("纳入日期", "Enrolled on"),
    "field.enrolments": ("纳入记录", "Enrolments"),
    "field.exited_on": ("退出日期", "Exited on"),
    "field.expected_yuan": ("应为金额（元）", "Expected (yuan)"),
    "field.filled_positions": ("在岗人数", "Positions filled"),
    "field.first_digit_shares": ("首位数字占比", "First-digit shares"),
    "field.has_equipment": ("有办公设备", "Has equipment"),
    "field.household_id": ("户编号", "Household"),
    "field.household_ids": ("户编号", "Households"),
    "field.household_members_on_roll": ("家庭在册人数", "Household members on the roll"),
    "field.household_size": ("家庭人口", "Household size"),
    "field.id_number": ("身份证号", "ID number"),
    "field.is_public_employee": ("财政供养人员", "Public employee"),
    "field.mad": ("平均绝对偏差", "Mean absolute deviation"),
    "field.mad_threshold": ("偏差阈值", "Threshold"),
    "field.month": ("月份", "Month"),
    "field.monthly_standard_yuan": ("月标准（元）", "Monthly standard (yuan)"),
    "field.months": ("月份", "Months"),
    "field.most_in_post": ("最多在岗人数", "Most in post"),
    "field.name": ("姓名", "Name"),
    "field.next_staff_id": ("继任人员编号", "Next staff id"),
    "field.office": ("民政所", "Office"),
    "field.office_area_m2": ("办公面积（平方米）", "Office area (m²)"),
    "field.paid_by_county_yuan": ("各县（区）支出（元）", "Paid by county (yuan)"),
    "field.paid_on": ("发放日期", "Paid on"),
    "field.paid_positions": ("付费岗位数", "Positions paid"),
    "field.paid_yuan": ("支付金额（元）", "Paid (yuan)"),
    "field.payment_count": ("笔数", "Payments"),
    "field.payment_id": ("发放编号", "Payment"),
    "field.payments": ("笔数", "Payments"),
    "field.period": ("所属期", "Period"),
    "field.person_id": ("身份证号", "Person"),
    "field.planned": ("计划人数", "Planned"),
    "field.planned_township_positions": ("计划乡镇岗位数", "Planned township positions"),
    "field.positions": ("岗位数", "Positions"),
    "field.post_code": ("岗位所在地", "Post"),
    "field.posts": ("岗位", "Posts"),
    "field.problem": ("问题", "Problem"),
    "field.problems": ("问题", "Problems"),
    "field.programme": ("救助类别", "Programme"),
    "field.programmes": ("救助类别", "Programmes"),
    "field.public_employees": ("财政供养记录", "Public payroll records"),
    "field.public_employment": ("财政供养记录", "Public payroll records"),
    "field.required": ("要求", "Required"),
    "field.round_share": ("整数金额占比", "Share of round amounts"),
    "field.round_share_threshold": ("占比阈值", "Threshold"),
    "field.service_end": ("服务截止", "Service ends"),
    "field.service_months": ("服务月数", "Service months"),
    "field.service_start": ("服务开始", "Service starts"),
    "field.share_yuan": ("应占份额（元）", "Share (yuan)"),
    "field.shortfall_yuan": ("缺口（元）", "Shortfall (yuan)"),
    "field.signed_on": ("签订日期", "Signed on"),
    "field.since": ("起始日期", "Since"),
    "field.special_fund_allocated_yuan": ("专项资金下达（元）", "Special fund allocated (yuan)"),
    "field.special_fund_purchase_paid_yuan": (
        "专项资金购买服务支出（元）",
        "Special fund spent on purchases (yuan)",
    ),
    "field.staff": ("人员", "Staff"),
    "field.staff_id": ("人员编号", "Staff id"),
    "field.term_days": ("服务期限（天）", "Term (days)"),
    "field.tolerance_share": ("容差比例", "Tolerance"),
    "field.township_offices": ("乡镇民政所数", "Township offices"),
    "field.township_offices_in_register": ("区划内乡镇民政所数", "Township offices in the register"),
    "field.uncovered_months": ("无人在岗月份", "Months with nobody in post"),
    "field.unfilled_position_months": ("空岗月数", "Unfilled position-months"),
    "field.unit_cost_yuan": ("单价（元）", "Unit cost (yuan)"),
    "field.vacancies": ("空缺", "Vacancies"),
    "field.vacant_days": ("空缺天数", "Days vacant"),
    "field.vacant_from": ("空缺起", "Vacant from"),
    "field.vacant_to": ("空缺止", "Vacant to"),
    # evidence values that are codes
    "code.after_exit": ("所属期晚于退出日期", "period after exit"),
    "code.allocation_unspent": ("下达资金未使用", "allocation unspent"),
    "code.before_enrolment": ("所属期早于纳入日期", "period before enrolment"),
    "code.benford_mad": ("金额首位数字分布异常", "first digits off Benford's law"),
    "code.concurrent_staff": ("同时在岗超过1人", "more than one in post"),
    "code.credit_code": ("统一社会信用代码无效", "invalid credit code"),
    "code.dibao_and_tekun": ("同时享受低保和特困", "on both dibao and tekun"),
    "code.end_before_start": ("截止日期早于开始日期", "ends before it starts"),
    "code.no_dedicated_officer": ("无专职人员", "no dedicated officer"),
    "code.no_equipment": ("无办公设备", "no equipment"),
    "code.no_office_area": ("无办公场所", "no office space"),
    "code.no_office_record": ("无民政所记录", "no office record"),
    "code.not_on_roll": ("不在该类别救助名册", "not on the programme's roll"),
    "code.outside_year": ("服务期超出检查年度", "outside the audit year"),
    "code.paid_above_allocation": ("支出超过下达资金", "paid above the allocation"),
    "code.post_not_in_register": ("岗位不在区划内", "post not in the register"),
    "code.registered_after_signing": ("签订合同后才登记", "registered after signing"),
    "code.round_amounts": ("整数金额过多", "too many round amounts"),
    "code.rural": ("农村", "rural"),
    "code.signed_after_start": ("服务开始后才签订", "signed after the service began"),
    "code.term_too_long": ("服务期限超过1年", "term over one year"),
    "code.two_counties": ("在两个县（区）", "in two counties"),
    "code.two_townships": ("在两个乡镇", "in two townships"),
    "code.type": ("承接主体类型不符", "ineligible contractor type"),
    "code.urban": ("城市", "urban"),
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
