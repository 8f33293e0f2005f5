"""Discovery: which file of a submission folder is which table of the contract, and what is not read.

A file is taken for a table when its name, before the suffix, is the table's name, its
Chinese title, or the title followed by 表 (救助金发放明细表), whatever the letter case,
full-width characters or invisible characters (a right-to-left mark, a zero-width space)
in it (:data:`FILE_NAME_RULE`). Only regular files directly inside the folder are read: a
symbolic link, a device or a name resolving outside the folder is rejected by name without
being opened. A table a full audit needs that has no file is an error naming the file most
likely meant (a near name, or one in a sub-folder).
"""

from __future__ import annotations

import difflib
import hashlib
import stat
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from audit import readers
from audit.datacontract import TABLES
from audit.exceptions import TableError
from audit.ingest.result import Ignored
from audit.names import shown

SUBMITTED_TABLES = tuple(name for name, table in TABLES.items() if not table.reference)
"""The tables a full audit needs from a county; the reference lists are the auditor's own."""

FILE_NAME_RULE = (
    "A file is taken for a table when its name before the suffix is the table's name, its Chinese "
    "title, or the title followed by 表 (救助金发放明细表), whatever the letter case, full-width "
    "characters or invisible characters (a right-to-left mark, a zero-width space) in it."
)
"""The file-name rule, as the data-contract documentation states it."""


@dataclass
class Discovery:
    """What a submission folder holds: files by table, files not read, and files refused."""

    found: dict[str, list[Path]] = field(default_factory=dict)
    ignored: list[Ignored] = field(default_factory=list)
    refused: list[TableError] = field(default_factory=list)  # links, devices, names leading outside
    elsewhere: list[str] = field(default_factory=list)  # files seen in sub-folders (not read)


def stem_key(name: str) -> str:
    """A file name's stem reduced for matching: NFKC, invisible characters gone, no spaces, lowercase."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    text = unicodedata.normalize("NFKC", stem)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cc"))
    return "".join(text.split()).lower()


def accepted_stems(table: str) -> tuple[str, ...]:
    """Every file-name stem taken for ``table`` (see :data:`FILE_NAME_RULE`)."""
    zh = TABLES[table].zh
    return (table, zh, zh + "表")


def table_of(path: Path) -> str | None:
    """The contract table a file is for, from its name (English or Chinese), or None."""
    key = stem_key(path.name)
    for name in TABLES:
        if key in accepted_stems(name):
            return name
    return None


def discover(source: Path) -> tuple[dict[str, list[Path]], list[Ignored]]:
    """Files of a submission folder by table, and everything else with the reason it is ignored."""
    found = survey(source)
    return found.found, found.ignored


def survey(source: Path) -> Discovery:
    """Look at every entry of ``source`` without opening any: what is read, ignored or refused."""
    out = Discovery()
    root = source.resolve()
    for entry in sorted(source.iterdir(), key=lambda p: p.name):
        name = shown(entry.name)
        try:
            mode = entry.lstat().st_mode
        except OSError as exc:
            out.ignored.append(Ignored(name, f"cannot be looked at ({exc.strerror})"))
            continue
        table = table_of(entry)
        if entry.name.startswith((".", "~$")):
            out.ignored.append(Ignored(name, "hidden file or Excel lock file"))
        elif stat.S_ISDIR(mode):
            out.ignored.append(
                Ignored(name, "folder (only files directly in the submission folder are read)")
            )
            out.elsewhere += [f"{entry.name}/{inner.name}" for inner in _files_in(entry)]
        elif stat.S_ISLNK(mode) or not stat.S_ISREG(mode) or entry.resolve().parent != root:
            what = (
                "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file (a device, pipe or socket)"
            )
            reason = f"{what}: only regular files inside the submission folder are read; it was not opened"
            if table is not None:
                out.refused.append(TableError(f"{reason}; copy the file itself in its place", file=name))
            else:
                out.ignored.append(Ignored(name, reason))
        elif readers.reader_for(entry) is None:
            out.ignored.append(
                Ignored(name, f"not a format audit reads ({', '.join(sorted(readers.READERS))})")
            )
        elif table is None:
            out.ignored.append(
                Ignored(name, "name is not a table of the contract (" + ", ".join(TABLES) + ")")
            )
        else:
            out.found.setdefault(table, []).append(entry)
    return out


def _files_in(folder: Path) -> list[Path]:
    """The regular files directly in a sub-folder (not followed if it is a link), sorted."""
    try:
        if folder.is_symlink():
            return []
        return sorted(
            (p for p in folder.iterdir() if p.is_file() and not p.is_symlink()), key=lambda p: p.name
        )
    except OSError:
        return []


def missing_tables(found: Discovery, required: Collection[str]) -> list[TableError]:
    """An error for each required table with no file, naming the file most likely meant."""
    errors = []
    refused = {stem_key(e.file or "") for e in found.refused}
    candidates = [i.path for i in found.ignored] + found.elsewhere
    for table in (t for t in TABLES if t in required and t not in found.found):
        if any(stem in refused for stem in accepted_stems(table)):
            continue  # its file was refused, and that error names it
        likely = likely_file(table, candidates)
        hint = (
            f"; the file meant is likely {shown(likely)}: rename it to {table} (or {TABLES[table].zh}) with "
            "its suffix and put it directly in the submission folder"
            if likely
            else f"; add {table}.xlsx (or .csv, .parquet), or leave the table out on purpose with "
            f"--leave-out {table} (a partial audit)"
        )
        errors.append(
            TableError(
                f"the submission has no file for table {table} ({TABLES[table].zh}), "
                f"which a full audit needs{hint}"
            )
        )
    return errors


def likely_file(table: str, names: Collection[str]) -> str | None:
    """The name among ``names`` most likely meant for ``table``: holding its name or title, or near one."""
    best, score = None, 0.0
    for name in names:
        key = stem_key(name.rsplit("/", 1)[-1])
        for stem in accepted_stems(table):
            ratio = 1.0 if stem.lower() in key else difflib.SequenceMatcher(None, key, stem.lower()).ratio()
            if ratio > score:
                best, score = name, ratio
    return best if score >= 0.75 else None


def sha256(path: Path) -> str:
    """The SHA-256 of a file, read a mebibyte at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
