"""``audit track``: the follow-up journal of an audit (import, status, close).

Each action is a module here with the subcommand protocol of :mod:`audit.cli` (``NAME``,
``HELP``, ``configure``, ``options``, ``run``); this package is itself a subcommand that
hands its arguments to the action named.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Any

NAME = "track"
HELP = "Follow findings up: import a filled 整改清单, show statuses and overdue items, close the 可销号."
DEFAULT_FOLDER = Path("outputs/tracking")


def add_folder_argument(parser: argparse.ArgumentParser) -> None:
    """``--track DIR``, shared by every action."""
    parser.add_argument(
        "--track",
        type=Path,
        default=DEFAULT_FOLDER,
        metavar="DIR",
        help=f"the follow-up journal's folder (default {DEFAULT_FOLDER})",
    )


def actions() -> dict[str, ModuleType]:
    """Every action module, by name."""
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "NAME"):
            found[module.NAME] = module
    return dict(sorted(found.items()))


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare one sub-parser per action."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", title="actions", required=True)
    for name, module in actions().items():
        child = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(child)


def options(ns: argparse.Namespace) -> tuple[ModuleType, Any]:
    """The action's module and its typed options."""
    module = actions()[ns.action]
    return module, module.options(ns)


def run(opts: tuple[ModuleType, Any]) -> int:
    """Run the action."""
    module, action_options = opts
    return int(module.run(action_options))
