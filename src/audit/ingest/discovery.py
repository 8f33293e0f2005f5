"""Discovery: which file of a submission folder is which table of the contract, and what is not read."""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path

from audit import readers
from audit.contract import TABLES
from audit.ingest.result import Ignored


def table_of(path: Path) -> str | None:
    """The contract table a file is for, from its name (English or Chinese), or None."""
    stem = unicodedata.normalize("NFKC", path.stem).strip().lower()
    for name, table in TABLES.items():
        if stem in (name, table.zh):
            return name
    return None


def discover(source: Path) -> tuple[dict[str, list[Path]], list[Ignored]]:
    """Files of a submission folder by table, and everything else with the reason it is ignored."""
    found: dict[str, list[Path]] = {}
    ignored: list[Ignored] = []
    for entry in sorted(source.iterdir(), key=lambda p: p.name):
        if entry.name.startswith((".", "~$")):
            ignored.append(Ignored(entry.name, "hidden file or Excel lock file"))
        elif entry.is_dir():
            ignored.append(
                Ignored(entry.name, "folder (only files directly in the submission folder are read)")
            )
        elif readers.reader_for(entry) is None:
            ignored.append(
                Ignored(entry.name, f"not a format audit reads ({', '.join(sorted(readers.READERS))})")
            )
        elif (table := table_of(entry)) is None:
            ignored.append(
                Ignored(entry.name, "name is not a table of the contract (" + ", ".join(TABLES) + ")")
            )
        else:
            found.setdefault(table, []).append(entry)
    return found, ignored


def sha256(path: Path) -> str:
    """The SHA-256 of a file, read a mebibyte at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
