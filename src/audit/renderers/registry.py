"""The registry of report renderers: one per output format (``html``, ``pdf``, ...).

A renderer is a class registered under its format's name with :func:`register`. It
declares the file it writes (``report<suffix>``), the formats it is rendered from
(``needs``: ``pdf`` prints the HTML page), and :meth:`Renderer.missing`: the system
dependency it lacks on this machine, if any (Chromium for ``pdf``). :func:`choose` turns a
``--formats`` list (or none: every format this machine can render) into the formats to
render, in an order where each comes after those it needs; :func:`render` renders them for
one unit (a county or the city roll-up) from its executed notebooks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from audit.exceptions import ParameterError, RenderError

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from audit.document import Document

STEM = "report"
"""Every report file is ``report.<format's suffix>`` in the unit's folder."""


@dataclass
class Request:
    """What a renderer gets: one unit's executed notebooks, the options, and where to write.

    ``rendered`` holds the files of the formats rendered before this one (at least those it
    ``needs``). ``params`` is the parameters file of the run (a renderer may read a template
    named there), or None.
    """

    notebooks: tuple[Path, ...]  # executed notebooks of the unit, in reading order
    out: Path  # the folder the report files go to
    lang: str = "zh"
    pii: str = "masked"  # masked, or full: what the notebooks already show
    params: Path | None = None
    rendered: dict[str, Path] = field(default_factory=dict)

    def path(self, suffix: str) -> Path:
        """The report file with this suffix in the output folder."""
        return self.out / f"{STEM}{suffix}"

    @functools.cached_property
    def executed(self) -> tuple[NotebookNode, ...]:
        """The executed notebooks, read once per request."""
        # start-up time: nbformat pulls in jsonschema, whose format checkers take seconds to import;
        # a kernel showing a part must not pay that, only a process that reads notebooks
        from audit.reports import read_notebook

        return tuple(read_notebook(p) for p in self.notebooks)

    @functools.cached_property
    def assembled(self) -> Document:
        """The report document assembled from the notebooks' parts (see :mod:`audit.reports`)."""
        # start-up time: nbformat pulls in jsonschema, whose format checkers take seconds to import;
        # a kernel showing a part must not pay that, only a process that reads notebooks
        from audit.reports import assemble

        return assemble(self.executed)


class Renderer(Protocol):
    """One output format of the report."""

    name: str  # set by register()
    suffix: str  # ".html"
    needs: tuple[str, ...]  # formats this one is rendered from

    def missing(self) -> str | None:
        """The system dependency this machine lacks for this format (a sentence), or None."""

    def render(self, request: Request) -> Path:
        """Write the report file and return its path; raise RenderError when it cannot."""


RENDERERS: dict[str, Renderer] = {}


def register(name: str) -> Callable[[type], type]:
    """Add a renderer class to the registry under the format ``name``."""

    def add(cls: type) -> type:
        if name in RENDERERS:
            raise ValueError(f"renderer {name!r} is registered twice")
        renderer = cls()
        renderer.name = name
        RENDERERS[name] = renderer
        return cls

    return add


def renderer(name: str) -> Renderer:
    """The renderer of format ``name``; ParameterError naming the known ones when there is none."""
    try:
        return RENDERERS[name]
    except KeyError:
        raise ParameterError(f"unknown report format {name!r}; choose from {', '.join(RENDERERS)}") from None


def availability() -> dict[str, str | None]:
    """Every registered format and what this machine lacks to render it (None: nothing)."""
    return {name: r.missing() for name, r in RENDERERS.items()}


def _with_needs(names: Iterable[str]) -> list[str]:
    """``names`` and every format they need, each after the formats it needs."""
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in path:
            raise ValueError(f"renderers need each other in a circle: {' -> '.join((*path, name))}")
        for need in renderer(name).needs:
            visit(need, (*path, name))
        ordered.append(name)

    for name in names:
        visit(name, ())
    return ordered


@dataclass(frozen=True)
class Choice:
    """The formats to render, and those left out for a missing system dependency."""

    formats: tuple[str, ...]
    skipped: Mapping[str, str] = field(default_factory=dict)  # format -> what is missing

    def notes(self) -> list[str]:
        """One line per format left out, naming what is missing."""
        return [f"no {name} report: {why}" for name, why in self.skipped.items()]


def parse(text: str | None) -> tuple[str, ...] | None:
    """The format names of a ``--formats html,pdf`` argument (None when it was not given)."""
    if text is None:
        return None
    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    if not names:
        raise ParameterError(f"--formats {text!r}: name at least one of {', '.join(RENDERERS)}")
    for name in names:
        renderer(name)
    return names


def choose(requested: Sequence[str] | None = None) -> Choice:
    """The formats to render: those asked for (and what they need), or every one this machine can.

    A format asked for whose system dependency is missing is a ParameterError naming it; by
    default such a format is left out and named in :meth:`Choice.notes`.
    """
    if requested is not None:
        wanted = _with_needs(requested)
        for name in wanted:
            why = renderer(name).missing()
            if why:
                raise ParameterError(f"--formats {name}: {why}; leave {name} out of --formats")
        return Choice(tuple(wanted))
    lacking = {name: why for name, why in availability().items() if why}
    # a format whose needs cannot be met is left out too
    usable = [n for n in RENDERERS if n not in lacking]
    for name in list(usable):
        unmet = [need for need in _with_needs([name]) if need in lacking]
        if unmet:
            usable.remove(name)
            lacking[name] = f"it needs {unmet[0]}: {lacking[unmet[0]]}"
    return Choice(tuple(_with_needs(usable)), lacking)


def check(formats: Sequence[str]) -> None:
    """Raise RenderError naming what is missing for any of ``formats`` (before minutes of notebooks)."""
    for name in formats:
        why = renderer(name).missing()
        if why:
            raise RenderError(f"cannot render {name}: {why}")


def render(
    formats: Sequence[str],
    notebooks: Sequence[Path],
    out: Path,
    *,
    lang: str,
    pii: str = "masked",
    params: Path | None = None,
) -> dict[str, Path]:
    """Render the unit's report in each of ``formats`` (in order: a format after what it needs)."""
    request = Request(tuple(Path(p) for p in notebooks), Path(out), lang, pii, params)
    for name in _with_needs(formats):  # one request: the notebooks are read and assembled once
        request.rendered[name] = renderer(name).render(request)
    return dict(request.rendered)


def report_files(formats: Iterable[str] | None = None) -> dict[str, str]:
    """Format -> report file name, for ``formats`` (default: every registered format)."""
    names = RENDERERS if formats is None else formats
    return {name: f"{STEM}{renderer(name).suffix}" for name in names}
