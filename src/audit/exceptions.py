"""Exceptions raised by audit.

Every error the package raises on purpose derives from :class:`AuditError`. The CLI turns
them into a message and an exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from audit.names import shown

EXIT_OK = 0
EXIT_FINDINGS = 1  # findings or data-quality failures the user asked to treat as errors
EXIT_INPUT = 2  # unusable input or arguments


class AuditError(Exception):
    """Root of every error audit raises on purpose."""

    exit_code = EXIT_INPUT


class InputError(AuditError):
    """Raised when input data cannot be used at all; the message says where and how to fix it."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file, self.sheet, self.row, self.column = file, sheet, row, column
        self.message = message
        super().__init__(self.__str__())

    def location(self) -> str:
        """Where the problem is, as ``file, sheet S, row R, column C``; names escaped (audit.names)."""
        parts = [shown(self.file or "")]
        if self.sheet is not None:
            parts.append(f"sheet {shown(self.sheet)}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {shown(self.column)}")
        return ", ".join(p for p in parts if p)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message


class TableError(InputError):
    """Raised when a whole table cannot be loaded (missing column, unreadable file, lost digits)."""


class SubmissionError(InputError):
    """Raised when submission folders cannot be ingested together: a folder named after a county
    holds another county's rows, or a resubmission does not fit the store it would replace rows in."""


class ParameterError(AuditError):
    """Raised when a parameters file or a run parameter is missing, unknown or of the wrong type."""


class StoreError(AuditError):
    """Raised when a store folder is missing, incomplete or not a store."""


class RuleError(AuditError):
    """Raised when a rule is registered twice or asked for by an unknown id."""

    exit_code = 1


class ExecutionError(AuditError):
    """Raised when a notebook fails or times out while it is executed."""

    exit_code = 1


class RenderError(AuditError):
    """Raised when an executed notebook cannot be turned into HTML or PDF."""

    exit_code = 1


class ManifestError(AuditError):
    """Raised when a run folder has no readable manifest, or its contents do not match it."""


class BatchError(AuditError):
    """Raised when a batch cannot start: its run folder exists, is locked, or cannot be resumed."""


class WorkerLost(ExecutionError):
    """Raised when the process running a batch job died before it returned a result."""


class TableErrors(TableError):
    """Raised when several tables cannot be loaded; the message lists each with its location."""

    def __init__(self, errors: list[TableError] | tuple[TableError, ...]) -> None:
        self.errors = tuple(errors)
        lines = [f"{len(self.errors)} tables cannot be loaded:"] + [f"  - {e}" for e in self.errors]
        super().__init__("\n".join(lines))


class FollowUpError(InputError):
    """Raised when a row of a filled rectification list cannot be applied to the follow-up journal."""


class FollowUpErrors(FollowUpError):
    """Raised when several rows of a filled rectification list cannot be applied; each is listed."""

    def __init__(self, errors: list[FollowUpError] | tuple[FollowUpError, ...]) -> None:
        self.errors = tuple(errors)
        lines = [f"{len(self.errors)} rows cannot be applied; nothing was recorded:"]
        lines += [f"  - {e}" for e in self.errors]
        super().__init__("\n".join(lines))


class JournalError(AuditError):
    """Raised when a follow-up journal is damaged, held by another import too long, or unusable."""


class PublishError(AuditError):
    """Raised when a run cannot be published as a reviewer bundle: unfinished, changed since, showing
    personal data in full, or its destination folder taken."""
