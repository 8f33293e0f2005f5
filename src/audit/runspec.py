"""The parameters of a notebook run, typed and checked before papermill starts a kernel.

A bad county, path, language or privacy mode raises :class:`~audit.exceptions.ParameterError`
(exit code 2) naming the parameter and the values it allows, so a typo costs nothing and no
kernel ever runs on it. The inspection facade checks the same way inside the kernel, so an
interactive run gets the same messages.

Paths: a relative path is taken from the project root (the folder holding ``notebooks/``
and ``src/``), whatever the kernel's working directory, so a notebook opened from
``notebooks/`` and a run from the root read the same store. A path the user typed on the
command line (``--store``, ``--params``, ``--out``) is theirs and is accepted wherever it
points. Any other path (a notebook's parameters, a file's) must resolve, after symlinks and
``..``, inside the project root, a folder listed in ``AUDIT_ALLOWED_ROOTS``
(``os.pathsep``-separated) or one the user typed: a store link pointing out of the tree is
refused, not followed, and the message says where the path came from.
Codes stay strings: ``county=540102`` given as a number is refused, since papermill's
``-p county 540102`` would have made it one.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from audit.exceptions import ParameterError
from audit.i18n import LANGS
from audit.params import Params, load_params
from audit.privacy import PII_MODES

ALLOWED_ROOTS_ENV = "AUDIT_ALLOWED_ROOTS"
CITY_NOTEBOOK = "city"
DEFAULTS: dict[str, Any] = {
    "county": "540102",
    "store": "outputs/demo-store",
    "params": "params/lhasa-2020.yaml",
    "out": "outputs/interactive",
    "lang": "zh",
    "pii": "masked",
    "seed": None,
    "run_id": "interactive",
    "rules_from": None,
    "counties": None,
    "excluded": None,
}
"""The notebooks' parameter cell, as literals (a test keeps the notebooks equal to it).

``rules_from`` names a batch run folder whose rule runs (``<run>/restricted/<unit>/rules/``) the
notebook reads instead of running the rules itself (None: run them); ``counties`` limits the
city roll-up to those counties (None: every county of the store; area notebooks ignore it);
``excluded`` are counties the roll-up leaves out and marks, their store files being damaged
(set by the batch; None: none).
"""
_RUN_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"


def project_root() -> Path:
    """The folder holding ``notebooks/`` and ``src/audit``: relative paths start here."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "notebooks").is_dir() else Path.cwd().resolve()


def allowed_roots(extra: Sequence[str | Path] = ()) -> tuple[Path, ...]:
    """The project root, the folders in ``AUDIT_ALLOWED_ROOTS`` and ``extra``, resolved."""
    listed = [p for p in os.environ.get(ALLOWED_ROOTS_ENV, "").split(os.pathsep) if p.strip()]
    roots = [project_root(), *(Path(p) for p in listed), *(Path(p) for p in extra)]
    out: list[Path] = []
    for root in roots:
        resolved = root.expanduser().resolve()
        if resolved not in out:
            out.append(resolved)
    return tuple(out)


class RunSpec(BaseModel):
    """The validated parameters of one notebook run; paths absolute and inside the allowed roots."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    county: str = Field(pattern=r"^\d{6}$")
    store: Path
    params: Path
    out: Path
    lang: Literal["zh", "en"] = "zh"
    pii: Literal["masked", "full"] = "masked"
    seed: int | None = Field(default=None, ge=0)
    run_id: str = Field(default="interactive", pattern=_RUN_ID)
    rules_from: Path | None = None
    counties: tuple[str, ...] | None = None
    excluded: tuple[str, ...] | None = None
    allowed: tuple[Path, ...] = ()

    def notebook_parameters(self) -> dict[str, Any]:
        """The papermill parameters: literals only, codes and paths as strings."""
        return {
            "county": self.county,
            "store": str(self.store),
            "params": str(self.params),
            "out": str(self.out),
            "lang": self.lang,
            "pii": self.pii,
            "seed": self.seed,
            "run_id": self.run_id,
            "rules_from": None if self.rules_from is None else str(self.rules_from),
            "counties": None if self.counties is None else list(self.counties),
            "excluded": None if self.excluded is None else list(self.excluded),
        }

    def with_out(self, out: str | Path) -> RunSpec:
        """The same run writing into ``out`` (checked against the same allowed roots)."""
        path = _contained("out", out, self.allowed)
        return self.model_copy(update={"out": path})


_ALLOWED_TEXT = {
    "county": "a string of 6 digits such as '540102' (codes keep leading zeros: pass it as text, "
    "from Python or with papermill -r, never -p)",
    "store": "a path to a store folder",
    "params": "a path to a parameters YAML file",
    "out": "a path to an output folder",
    "lang": " | ".join(LANGS),
    "pii": " | ".join(PII_MODES),
    "seed": "a whole number >= 0, or None for the parameters file's seed",
    "run_id": "letters, digits, '.', '_' or '-' (at most 80, not starting with a punctuation mark)",
    "rules_from": "None, or a path to a batch run folder holding the rule runs",
    "counties": "None, or a list of county codes as strings, such as ['540102', '540103']",
    "excluded": "None, or a list of county codes as strings, such as ['540121']",
}


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


NOTEBOOK_ORIGIN = "the notebook's parameters"
"""Where a path checked by :func:`validate_spec` comes from unless the caller says otherwise."""


def _absolute(value: str | Path) -> Path:
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = project_root() / path
    return path.resolve()  # follows symlinks: a link out of the tree lands outside


def _contained(name: str, value: str | Path, roots: Sequence[Path], origin: str = NOTEBOOK_ORIGIN) -> Path:
    resolved = _absolute(value)
    if not any(resolved == r or resolved.is_relative_to(r) for r in roots):
        where = ", ".join(str(r) for r in roots)
        raise ParameterError(
            f"parameter {name!r} (from {origin}): {value} resolves to {resolved}, outside the allowed "
            f"folders ({where}); add a folder to {ALLOWED_ROOTS_ENV} to allow it, or type the path "
            "on the command line"
        )
    return resolved


def validate_spec(
    values: Mapping[str, Any],
    *,
    scope: Literal["county", "city"] | None = None,
    counties: Collection[str] | None = None,
    extra_roots: Sequence[str | Path] = (),
    typed: Collection[str] = (),
    origin: str = NOTEBOOK_ORIGIN,
) -> RunSpec:
    """Check notebook parameters and return a RunSpec; raise ParameterError naming what is wrong.

    ``scope`` is ``"city"`` for the roll-up (the county must be the city's code), ``"county"``
    for an area notebook (the county must be one of the store's), None for either.
    ``counties`` are the store's counties when the caller knows them; otherwise the store
    is opened to ask. ``typed`` names the path parameters the user typed on the command
    line: they are accepted wherever they point (and allowed to the kernel, which checks
    again); the others are checked against the allowed roots and a refusal names ``origin``.
    """
    unknown = sorted(set(values) - set(DEFAULTS))
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(DEFAULTS)}"
        )
    merged = {**DEFAULTS, **values}
    _check_types(merged)
    chosen = [_absolute(merged[name]) for name in ("store", "params", "out") if name in typed]
    roots = allowed_roots([*extra_roots, *chosen])
    store = _contained("store", merged["store"], roots, origin)
    params_path = _contained("params", merged["params"], roots, origin)
    out = _contained("out", merged["out"], roots, origin)
    rules_from = (
        None
        if merged["rules_from"] is None
        else _contained("rules_from", merged["rules_from"], roots, origin)
    )
    if not store.is_dir():
        raise ParameterError(
            f"parameter 'store': {merged['store']} is not a folder; build it with `audit ingest`"
        )
    if not params_path.is_file():
        raise ParameterError(
            f"parameter 'params': {merged['params']} is not a file; try params/lhasa-2020.yaml"
        )
    if rules_from is not None and not rules_from.is_dir():
        raise ParameterError(
            f"parameter 'rules_from': {merged['rules_from']} is not a folder; give a batch run folder or None"
        )
    try:
        spec = RunSpec(
            county=merged["county"],
            store=store,
            params=params_path,
            out=out,
            lang=merged["lang"],
            pii=merged["pii"],
            seed=merged["seed"],
            run_id=merged["run_id"],
            rules_from=rules_from,
            counties=None if merged["counties"] is None else tuple(merged["counties"]),
            excluded=None if merged["excluded"] is None else tuple(merged["excluded"]),
            allowed=roots,
        )
    except ValidationError as exc:  # pragma: no cover - _check_types catches these first
        raise ParameterError(str(exc)) from None
    params = load_params(params_path)
    _check_county(spec, params, scope, counties)
    _check_listed(spec, params, counties)
    return spec


def _check_types(merged: Mapping[str, Any]) -> None:
    for name in ("store", "params", "out"):
        if not isinstance(merged[name], str | Path) or not str(merged[name]).strip():
            _bad(name, merged[name])
    if not isinstance(merged["county"], str) or not re.fullmatch(r"\d{6}", merged["county"]):
        _bad("county", merged["county"])
    if not isinstance(merged["lang"], str) or merged["lang"] not in LANGS:
        _bad("lang", merged["lang"])
    if not isinstance(merged["pii"], str) or merged["pii"] not in PII_MODES:
        _bad("pii", merged["pii"])
    seed = merged["seed"]
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        _bad("seed", seed)
    if not isinstance(merged["run_id"], str) or not re.fullmatch(_RUN_ID, merged["run_id"]):
        _bad("run_id", merged["run_id"])
    if merged["rules_from"] is not None and (
        not isinstance(merged["rules_from"], str | Path) or not str(merged["rules_from"]).strip()
    ):
        _bad("rules_from", merged["rules_from"])
    for name in ("counties", "excluded"):
        listed = merged[name]
        if listed is not None and (
            not isinstance(listed, list | tuple)
            or not listed
            or not all(isinstance(c, str) and re.fullmatch(r"\d{6}", c) for c in listed)
        ):
            _bad(name, listed)


def _bad(name: str, value: Any) -> None:
    raise ParameterError(f"parameter {name!r}: got {_describe(value)}; allowed: {_ALLOWED_TEXT[name]}")


def _check_county(spec: RunSpec, params: Params, scope: str | None, counties: Collection[str] | None) -> None:
    if scope not in (None, "county", "city"):
        raise ParameterError(f"unknown scope {scope!r}; allowed: county, city")
    if spec.county == params.city_code and scope != "county":
        return
    if scope == "city":
        raise ParameterError(
            f"parameter 'county': the city roll-up takes the city's code {params.city_code}, "
            f"not {spec.county}"
        )
    if counties is None:
        from audit.store import Store  # start-up time: `audit --help` imports this module, not Parquet

        counties = Store.open(spec.store).counties()
    known = sorted(str(c) for c in counties)
    if spec.county not in known:
        roll_up = f", or {params.city_code} for the city roll-up" if scope is None else ""
        raise ParameterError(
            f"parameter 'county': {spec.county} is not a county in the store {spec.store}; "
            f"allowed: {', '.join(known) or '(the store has no county)'}{roll_up}"
        )


def _check_listed(spec: RunSpec, params: Params, counties: Collection[str] | None) -> None:
    if spec.counties is None:
        return
    if counties is None:
        from audit.store import Store  # start-up time, as above

        counties = Store.open(spec.store).counties()
    known = {str(c) for c in counties} - {params.city_code}
    unknown = [c for c in spec.counties if c not in known]
    if unknown:
        raise ParameterError(
            f"parameter 'counties': {', '.join(unknown)} not a county of the store {spec.store}; "
            f"allowed: {', '.join(sorted(known)) or '(the store has no county)'}"
        )


def parameter_names(notebook: str | Path) -> frozenset[str]:
    """The names a notebook's ``parameters`` cell assigns (empty when it has no such cell)."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
    for cell in cells:
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            source = "".join(cell.get("source", []))
            try:
                tree = ast.parse(source)
            except SyntaxError:
                return frozenset()
            return frozenset(
                target.id
                for node in tree.body
                if isinstance(node, ast.Assign | ast.AnnAssign)
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(target, ast.Name)
            )
    return frozenset()
