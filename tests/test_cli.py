"""The ``audit`` command line, called in-process."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import pytest

from audit import cli
from audit.exceptions import InputError


def test_help_lists_every_subcommand(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in cli.command_modules():
        assert name in out


def test_each_subcommand_has_help(capsys):
    for name in cli.command_modules():
        assert cli.main([name, "--help"]) == 0, name
        assert "usage: audit " + name in capsys.readouterr().out


def test_no_command_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "commands" in capsys.readouterr().out


def test_unknown_command_exits_2(capsys):
    assert cli.main(["no-such-command"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("audit ")


class _Failing:
    """A stand-in command module whose run raises a located input error."""

    NAME = "explode"
    HELP = "fail on purpose"

    @dataclass(frozen=True)
    class Options:
        path: str

    @staticmethod
    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("path")

    @classmethod
    def options(cls, ns: argparse.Namespace):
        return cls.Options(path=ns.path)

    @staticmethod
    def run(options) -> int:
        raise InputError("amount is not a number", file=options.path, sheet="Sheet1", row=7, column="金额")


def test_audit_errors_become_a_located_message_and_exit_code(monkeypatch, capsys):
    monkeypatch.setattr(cli, "command_modules", lambda: {"explode": _Failing})
    assert cli.main(["explode", "staff.xlsx"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "audit explode: error: staff.xlsx, sheet Sheet1, row 7, column 金额: amount is not a number"
    )
    assert "Traceback" not in err


def test_bugs_keep_their_traceback(monkeypatch):
    class Buggy(_Failing):
        @staticmethod
        def run(options) -> int:
            raise ZeroDivisionError

    monkeypatch.setattr(cli, "command_modules", lambda: {"explode": Buggy})
    with pytest.raises(ZeroDivisionError):
        cli.main(["explode", "x"])
