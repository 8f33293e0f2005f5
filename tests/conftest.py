"""Pytest fixtures that more than one test module asks for.

Everything else the tests share is imported from the ``fixtures`` package (``tests/fixtures/``):
``from fixtures import rule_tables, store_builder, make_damaged``, and ``ROOT`` and
``PARAMS_FILE`` from ``fixtures`` itself. That is the one way a test loads a fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures import store_builder


@pytest.fixture(scope="module")
def store_place(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder holding the hand-made store (``store_builder``) at ``store/``, where notebooks may write.

    The folder lies outside the project, so it is named in ``AUDIT_ALLOWED_ROOTS`` while the
    module's tests run; anything a test writes inside it is allowed too. One per test module.
    """
    base = tmp_path_factory.mktemp("place")
    store_builder.build_store(base / "store")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUDIT_ALLOWED_ROOTS", str(base))
        yield base
