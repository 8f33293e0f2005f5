"""House rules of the package as a whole: late imports say why, every folder says what it holds."""

from __future__ import annotations

import ast
from pathlib import Path

import audit

PACKAGE = Path(audit.__file__).parent
ROOT = PACKAGE.parents[1]


def _late_imports(path: Path) -> list[tuple[int, str]]:
    """Imports inside a function of ``path`` with no comment on their line or the line above."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Import | ast.ImportFrom):
                # one comment may explain a group of imports; a guarded import explains itself
                above = sub.lineno - 2
                while above >= 0 and lines[above].strip().startswith(("import ", "from ")):
                    above -= 1
                said = above >= 0 and (lines[above].strip().startswith("#") or lines[above].strip() == "try:")
                if "#" not in lines[sub.lineno - 1] and not said:
                    found.append((sub.lineno, lines[sub.lineno - 1].strip()))
    return found


def test_every_late_import_says_why_it_is_late():
    missing = [
        f"{p.relative_to(PACKAGE)}:{n}: {text}"
        for p in sorted(PACKAGE.rglob("*.py"))
        for n, text in _late_imports(p)
    ]
    assert not missing, (
        "a late import needs a comment saying why (start-up time, cycle, optional):\n" + "\n".join(missing)
    )


def test_the_check_finds_an_unexplained_late_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "def f():\n    import json\n\n    # start-up time\n    import csv\n    import io\n", encoding="utf-8"
    )
    assert _late_imports(module) == [(2, "import json")]


def test_every_folder_has_a_readme():
    folders = [PACKAGE, *(p for p in PACKAGE.rglob("*") if p.is_dir() and p.name != "__pycache__")]
    folders += [ROOT / name for name in ("notebooks", "params", "tests", "benchmarks", "docs", "scripts")]
    missing = [str(f.relative_to(ROOT)) for f in folders if f.is_dir() and not (f / "README.md").is_file()]
    assert not missing, f"folders without a README.md: {missing}"
