"""Report renderers: a registry of output formats, with ``html`` and ``pdf`` as plug-ins.

Add a format by writing a module here with a class registered by
``@register("<format>")`` (see :mod:`audit.renderers.registry` for what it declares) and
importing it below.
"""

from __future__ import annotations

from audit.renderers.registry import (
    RENDERERS,
    STEM,
    Choice,
    Renderer,
    Request,
    availability,
    check,
    choose,
    parse,
    register,
    render,
    renderer,
    report_files,
)

# the plug-ins: importing a module registers its format
from audit.renderers import html, pdf, docx  # noqa: F401  isort: skip

__all__ = [
    "RENDERERS",
    "STEM",
    "Choice",
    "Renderer",
    "Request",
    "availability",
    "check",
    "choose",
    "parse",
    "register",
    "render",
    "renderer",
    "report_files",
]
