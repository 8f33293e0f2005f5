"""Names shown safely: control characters, escape sequences, line breaks and bidi marks escaped."""

from __future__ import annotations

from audit.exceptions import TableError
from audit.names import hidden, shown


def test_names_that_would_act_on_a_terminal_or_a_page_are_escaped():
    assert shown("staff.xlsx") == "staff.xlsx"
    assert shown("救助金发放明细.csv") == "救助金发放明细.csv"
    assert shown("\x1b[31mred\x1b[0m.csv") == "\\x1b[31mred\\x1b[0m.csv"
    assert shown("a\nb\r\tc") == "a\\nb\\r\\tc"
    assert shown("relief\u202epayments.csv") == "relief\\u202epayments.csv"  # right-to-left override
    assert shown("\u200frelief_payments.csv") == "\\u200frelief_payments.csv"  # right-to-left mark
    assert shown("zero\u200bwidth") == "zero\\u200bwidth"
    assert hidden("a\u2066b") and not hidden("全角　空格")


def test_a_table_error_escapes_the_names_it_locates():
    error = TableError("no header", file="evil\x1b[2J\n.csv", sheet="Sheet\u202e1", column="姓名\r")
    assert str(error) == "evil\\x1b[2J\\n.csv, sheet Sheet\\u202e1, column 姓名\\r: no header"
    assert str(error).isprintable()
