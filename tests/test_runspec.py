"""Notebook parameters are checked, with the parameter and its allowed values named."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.exceptions import EXIT_INPUT, ParameterError
from audit.runspec import ALLOWED_ROOTS_ENV, parameter_names, project_root, validate_spec
from fixtures import PARAMS_FILE, ROOT

COUNTIES = ("540102", "540103")


@pytest.fixture()
def place(tmp_path: Path) -> dict[str, object]:
    """Parameters pointing at a store folder and an output folder under an allowed tmp root."""
    (tmp_path / "store").mkdir()
    return {
        "store": str(tmp_path / "store"),
        "out": str(tmp_path / "out"),
        "params": "params/lhasa-2020.yaml",
    }


def _check(values: dict, tmp_path: Path, **kw) -> object:
    return validate_spec(values, counties=COUNTIES, extra_roots=[tmp_path], **kw)


def test_a_good_spec_has_absolute_paths_and_string_codes(place, tmp_path):
    spec = _check(
        {**place, "county": "540103", "lang": "en", "seed": 7, "run_id": "r1"}, tmp_path, scope="county"
    )
    assert spec.county == "540103" and spec.lang == "en" and spec.seed == 7 and spec.pii == "masked"
    assert spec.params == PARAMS_FILE  # relative to the project, not the cwd
    assert spec.store == (tmp_path / "store").resolve()
    assert spec.notebook_parameters() == {
        "county": "540103",
        "store": str((tmp_path / "store").resolve()),
        "params": str(PARAMS_FILE),
        "out": str((tmp_path / "out").resolve()),
        "lang": "en",
        "pii": "masked",
        "seed": 7,
        "run_id": "r1",
        "rules_from": None,
        "counties": None,
        "excluded": None,
    }


def test_relative_paths_do_not_depend_on_the_working_directory(place, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT / "notebooks")
    spec = _check({**place, "out": "outputs/interactive"}, tmp_path)
    assert spec.out == ROOT / "outputs" / "interactive"
    assert project_root() == ROOT


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("county", 540102, "int 540102; allowed: a string of 6 digits"),
        ("county", "54010", "str '54010'"),
        ("lang", "zh-CN", "allowed: zh | en"),
        ("pii", "partial", "allowed: masked | full"),
        ("seed", "42", "str '42'; allowed: a whole number >= 0"),
        ("seed", True, "bool True"),
        ("seed", -1, "int -1"),
        ("run_id", "../x", "allowed: letters, digits"),
        ("store", 3, "allowed: a path to a store folder"),
        ("rules_from", 7, "int 7; allowed: None, or a path to a batch run folder"),
        ("counties", "540102", "str '540102'; allowed: None, or a list of county codes"),
        ("counties", [540102], "list [540102]"),
        ("counties", [], "list []"),
        ("excluded", "540121", "str '540121'; allowed: None, or a list of county codes"),
    ],
)
def test_a_bad_value_names_the_parameter_and_what_is_allowed(place, tmp_path, name, value, says):
    with pytest.raises(ParameterError) as caught:
        _check({**place, name: value}, tmp_path)
    assert f"parameter {name!r}" in str(caught.value) and says in str(caught.value)
    assert caught.value.exit_code == EXIT_INPUT == 2


def test_an_unknown_parameter_is_refused_with_the_known_ones_listed(place, tmp_path):
    with pytest.raises(ParameterError, match="unknown parameter\\(s\\) 'contry'; allowed: county, store"):
        _check({**place, "contry": "540102"}, tmp_path)


def test_a_county_must_be_in_the_store(place, tmp_path):
    with pytest.raises(
        ParameterError, match=r"540199 is not a county in the store .*allowed: 540102, 540103"
    ):
        _check({**place, "county": "540199"}, tmp_path, scope="county")


def test_the_city_roll_up_takes_the_city_code_only(place, tmp_path):
    assert _check({**place, "county": "540100"}, tmp_path, scope="city").county == "540100"
    assert _check({**place, "county": "540100"}, tmp_path).county == "540100"
    with pytest.raises(ParameterError, match="roll-up takes the city's code 540100, not 540102"):
        _check({**place, "county": "540102"}, tmp_path, scope="city")
    with pytest.raises(ParameterError, match="540100 is not a county"):
        _check({**place, "county": "540100"}, tmp_path, scope="county")


def test_paths_outside_the_allowed_folders_are_refused(place, tmp_path):
    with pytest.raises(
        ParameterError,
        match=r"parameter 'store' \(from the notebook's parameters\): .* outside the allowed folders",
    ):
        validate_spec({**place}, counties=COUNTIES)  # tmp_path not allowed this time
    with pytest.raises(ParameterError, match=r"parameter 'params' .*: .* outside the allowed folders"):
        _check({**place, "params": "params/../../../etc/passwd"}, tmp_path)
    with pytest.raises(ParameterError, match=r"parameter 'out' .*: .* outside"):
        _check({**place, "out": "outputs/../.."}, tmp_path)


def test_a_symlink_pointing_out_of_the_allowed_folders_is_refused(place, tmp_path):
    allowed, secret = tmp_path / "allowed", tmp_path / "secret"
    allowed.mkdir()
    secret.mkdir()
    (allowed / "store").symlink_to(secret, target_is_directory=True)
    with pytest.raises(ParameterError, match=f"resolves to {secret}, outside"):
        validate_spec(
            {**place, "store": str(allowed / "store"), "out": str(allowed)},
            counties=COUNTIES,
            extra_roots=[allowed],
        )


def test_typed_paths_are_accepted_and_a_refusal_says_where_a_path_came_from(place, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "store").mkdir(parents=True)
    values = {**place, "store": str(elsewhere / "store"), "out": str(elsewhere / "out")}
    with pytest.raises(ParameterError, match=r"parameter 'store' \(from the notebook's parameters\): "):
        validate_spec(values, counties=COUNTIES, extra_roots=[tmp_path / "store"])
    with pytest.raises(ParameterError, match=r"'out' \(from a file\): .* or type the path on the command"):
        validate_spec(values, counties=COUNTIES, typed=("store",), origin="a file")
    spec = validate_spec(values, counties=COUNTIES, typed=("store", "params", "out"))
    assert spec.store == (elsewhere / "store").resolve() and spec.out == (elsewhere / "out").resolve()


def test_the_environment_can_allow_another_folder(place, tmp_path, monkeypatch):
    monkeypatch.setenv(ALLOWED_ROOTS_ENV, f"/nonexistent-root:{tmp_path}")
    spec = validate_spec(place, counties=COUNTIES)
    assert spec.store == (tmp_path / "store").resolve()
    assert tmp_path.resolve() in spec.allowed


def test_the_store_and_params_must_exist_and_params_must_be_valid(place, tmp_path):
    with pytest.raises(ParameterError, match=r"parameter 'store': .* is not a folder"):
        _check({**place, "store": str(tmp_path / "nowhere")}, tmp_path)
    with pytest.raises(ParameterError, match=r"parameter 'params': .* is not a file"):
        _check({**place, "params": "params/missing.yaml"}, tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("audit_year: twenty\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="invalid parameters"):
        _check({**place, "params": str(bad)}, tmp_path)


def test_moving_the_output_keeps_the_same_allowed_folders(place, tmp_path):
    spec = _check(place, tmp_path)
    assert spec.with_out(tmp_path / "out" / "540102").out == (tmp_path / "out" / "540102").resolve()
    with pytest.raises(ParameterError, match="parameter 'out'"):
        spec.with_out("/")


def test_the_roll_up_can_cover_some_counties_only(place, tmp_path):
    spec = _check({**place, "county": "540100", "counties": ["540103"]}, tmp_path, scope="city")
    assert spec.counties == ("540103",)
    assert spec.notebook_parameters()["counties"] == ["540103"]
    with pytest.raises(ParameterError, match=r"'counties': 540199 not a county .*allowed: 540102, 540103"):
        _check({**place, "county": "540100", "counties": ["540103", "540199"]}, tmp_path, scope="city")
    with pytest.raises(ParameterError, match="'counties': 540100 not a county"):
        _check({**place, "county": "540100", "counties": ["540100"]}, tmp_path, scope="city")


def test_rules_from_must_be_an_allowed_folder(place, tmp_path):
    (tmp_path / "run").mkdir()
    spec = _check({**place, "rules_from": str(tmp_path / "run")}, tmp_path)
    assert spec.rules_from == (tmp_path / "run").resolve()
    assert spec.notebook_parameters()["rules_from"] == str((tmp_path / "run").resolve())
    with pytest.raises(ParameterError, match=r"'rules_from': .* is not a folder"):
        _check({**place, "rules_from": str(tmp_path / "nowhere")}, tmp_path)
    with pytest.raises(ParameterError, match=r"'rules_from' .*: .* outside the allowed folders"):
        _check({**place, "rules_from": "/"}, tmp_path)


def test_parameter_names_are_read_from_the_parameters_cell(tmp_path):
    assert parameter_names(ROOT / "notebooks" / "contracts.ipynb") >= {"county", "rules_from", "counties"}
    bare = tmp_path / "bare.ipynb"
    bare.write_text(
        '{"cells": [{"cell_type": "code", "metadata": {}, "source": ["x = 1"]}]}', encoding="utf-8"
    )
    assert parameter_names(bare) == frozenset()
