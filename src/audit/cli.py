"""The ``audit`` command: ``main(argv) -> int``.

Subcommands live one per module in :mod:`audit.commands`; each module defines ``NAME``,
``HELP``, ``configure(parser)`` to declare its arguments, ``options(namespace)`` to turn
them into a typed, validated object, and ``run(options) -> int``. A new subcommand is a
new module there, nothing else. Errors derived from :class:`~audit.exceptions.AuditError`
become a one-paragraph message on stderr and their exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from audit import __version__, commands
from audit.exceptions import AuditError

_REQUIRED = ("NAME", "HELP", "configure", "options", "run")


def command_modules() -> dict[str, ModuleType]:
    """Every subcommand module, by command name, in name order."""
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(commands.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if all(hasattr(module, attr) for attr in _REQUIRED):
            found[module.NAME] = module
    return dict(sorted(found.items()))


def build_parser(modules: dict[str, ModuleType]) -> argparse.ArgumentParser:
    """The argument parser with one sub-parser per command module."""
    parser = argparse.ArgumentParser(
        prog="audit",
        description="Audit purchased social-assistance services and relief funds, "
        "and render inspection reports.",
    )
    parser.add_argument("--version", action="version", version=f"audit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, module in modules.items():
        child = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(child)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``audit`` command line and return its exit code."""
    modules = command_modules()
    parser = build_parser(modules)
    try:
        namespace = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse exits 2 on bad arguments, 0 on --help
        return int(exc.code or 0)
    if not namespace.command:
        parser.print_help()
        return 2
    module = modules[namespace.command]
    try:
        return int(module.run(module.options(namespace)))
    except AuditError as exc:
        print(f"audit {namespace.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"audit {namespace.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
