"""``audit run``: bad arguments exit 2 before any kernel; a run writes the report; --fail-on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from audit import cli, notebook_runs
from audit.commands import run as run_command
from audit.findings import empty_register, write_register
from fixtures import store_builder


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return store_builder.build_store(tmp_path_factory.mktemp("cli") / "store")


@pytest.fixture()
def no_kernel(monkeypatch):
    """Fail the test if anything tries to start a notebook."""
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise AssertionError("a kernel was started")

    import papermill

    monkeypatch.setattr(papermill, "execute_notebook", refuse)
    monkeypatch.setattr(notebook_runs, "execute_notebook", refuse)
    return calls


def _argv(store: Path, out: Path, *extra: str) -> list[str]:
    base = [
        "run",
        "--county",
        "540102",
        "--store",
        str(store),
        "--params",
        "params/lhasa-2020.yaml",
        "--out",
        str(out),
    ]
    return [*base, "--allow-root", str(store.parent), "--allow-root", str(out.parent), *extra]


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (("--lang", "fr"), "parameter 'lang': got str 'fr'; allowed: zh | en"),
        (("--pii", "partial"), "parameter 'pii': got str 'partial'; allowed: masked | full"),
        (("--county", "540199"), "parameter 'county': 540199 is not a county in the store"),
        (("--county", "54010"), "parameter 'county': got str '54010'"),
        (("--area", "finance"), "--area finance: unknown; allowed: contracts, staffing, relief"),
        (("--fail-on", "worst"), "--fail-on worst: unknown; allowed: high, medium, low, info"),
        (("--timeout", "0"), "--timeout 0: must be more than 0 seconds"),
        (("--county", "540100", "--area", "relief"), "the city roll-up has no areas"),
        (("--run-id", "../../x"), "parameter 'run_id'"),
        (("--params", "/etc/hostname"), "/etc/hostname: expected a mapping of parameter names"),
        (("--seed", "abc"), "invalid int value"),
    ],
)
def test_bad_arguments_exit_2_before_any_kernel_starts(store, tmp_path, no_kernel, capsys, extra, says):
    assert cli.main(_argv(store, tmp_path / "out", *extra)) == 2
    assert says in capsys.readouterr().err
    assert no_kernel == []
    assert not (tmp_path / "out").exists()


def test_paths_typed_on_the_command_line_are_accepted_wherever_they_point(store, tmp_path, monkeypatch):
    monkeypatch.delenv("AUDIT_ALLOWED_ROOTS", raising=False)
    params = tmp_path / "elsewhere" / "lhasa.yaml"
    params.parent.mkdir()
    params.write_bytes((Path(__file__).parents[1] / "params" / "lhasa-2020.yaml").read_bytes())
    argv = ["run", "--county", "540102", "--store", str(store), "--params", str(params)]
    namespace = cli.build_parser(cli.command_modules()).parse_args([*argv, "--out", str(tmp_path / "o")])
    spec = run_command.options(namespace).spec  # no --allow-root: the store is outside the project
    assert (spec.store, spec.params, spec.out) == (store.resolve(), params, tmp_path / "o" / "540102")
    # the kernel checks its paths again: it is told they are allowed
    assert {store.resolve(), params, tmp_path / "o" / "540102"} <= set(spec.allowed)


def _register(tmp_path: Path, severities: list[str]) -> Path:
    frame = empty_register()
    rows = pd.DataFrame({c: ["x"] * len(severities) for c in frame.columns if c != "amount_yuan"})
    rows["severity"], rows["amount_yuan"] = severities, float("nan")
    return write_register(rows[list(frame.columns)], tmp_path, "findings-F")["parquet"]


def test_the_worst_severity_decides_fail_on(tmp_path):
    assert run_command._worst((_register(tmp_path, ["info", "low"]),)) == "low"
    assert run_command._worst((_register(tmp_path, []),)) is None
    assert run_command._worst((_register(tmp_path, ["low", "high", "medium"]),)) == "high"


@pytest.mark.slow
@pytest.mark.xdist_group("notebooks")
def test_a_run_writes_the_report_and_fail_on_turns_findings_into_exit_1(store, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(
        _argv(
            store, out, "--area", "contracts", "--formats", "html", "--fail-on", "high", "--run-id", "cli-1"
        )
    )
    printed = capsys.readouterr().out
    assert code == 1  # C8 is high
    folder = out / "540102"
    assert f"report: {folder / 'report.html'}" in printed and "--fail-on high" in printed
    assert sorted(p.name for p in folder.iterdir()) == ["contracts.ipynb", "report.html", "results-C.parquet"]
    restricted = out / "restricted" / "540102"  # the register keeps full personal data: apart
    assert sorted(p.name for p in restricted.iterdir()) == ["findings-C.csv", "findings-C.parquet"]
    assert f"findings (restricted, full personal data): {restricted / 'findings-C.parquet'}" in printed
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "cli-1" in html and "支付金额超过合同金额（C8，高）" in html
    assert html.count("<figure>") == 1  # the contracts chart only: one area notebook ran
