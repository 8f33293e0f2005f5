"""Ingest a county submission: read → repair → validate → quarantine → store, with row accounting.

The package along its seams (a newcomer reads them in this order):

- :mod:`~audit.ingest.run`: :func:`ingest` and the run that takes the tables in contract order;
- :mod:`~audit.ingest.result`: what an ingest did (:class:`IngestResult`, per-sheet
  accounting, the manifest, :func:`summary`);
- :mod:`~audit.ingest.discovery`: which file is which table;
- :mod:`~audit.ingest.pipeline`: a sheet's blocks read and repaired ahead, on threads;
- :mod:`~audit.ingest.rows`: a block's rows as stored and as quarantined;
- :mod:`~audit.ingest.quality`: the data-quality log;
- :mod:`~audit.ingest.blocks`: checks across blocks (keys repeating in different blocks);
- :mod:`~audit.ingest.references`: checks across tables;
- :mod:`~audit.ingest.county`: county attribution, where every rule about one table is
  written (a registry keyed by table name);
- :mod:`~audit.ingest.submissions`: several submission folders in one store, a unit's
  folder holding its rows only, and a county's resubmission replacing its folder.
"""

from audit.ingest.discovery import discover, table_of
from audit.ingest.result import ACCOUNTING, Ignored, IngestResult, SheetAccount, summary
from audit.ingest.run import ingest
from audit.ingest.submissions import resubmit

__all__ = [
    "ACCOUNTING",
    "Ignored",
    "IngestResult",
    "SheetAccount",
    "discover",
    "ingest",
    "resubmit",
    "summary",
    "table_of",
]
