"""Progress of a batch: a tqdm bar on a terminal, one plain log line per job otherwise (CI logs)."""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TextIO


@dataclass(frozen=True)
class Tally:
    """Where a batch stands: counties and jobs finished so far."""

    counties_total: int
    counties_done: int
    counties_failed: int
    jobs_total: int
    jobs_finished: int
    jobs_skipped: int = 0  # done in an earlier run and resumed, not run now

    @property
    def counties_remaining(self) -> int:
        """Counties neither done nor failed."""
        return self.counties_total - self.counties_done - self.counties_failed

    def counties_text(self) -> str:
        """``counties 3 done, 1 failed, 4 remaining``."""
        return (
            f"counties {self.counties_done} done, {self.counties_failed} failed, "
            f"{self.counties_remaining} remaining"
        )


class Progress(Protocol):
    """What the batch loop reports to."""

    def start(self, tally: Tally) -> None:
        """The batch is about to run its jobs."""

    def advance(self, line: str, tally: Tally, *, ok: bool) -> None:
        """One job finished (``ok`` False when it failed); ``line`` says which and how."""

    def close(self, tally: Tally) -> None:
        """Every job has finished."""


def duration_text(seconds: float) -> str:
    """A short human duration: ``45 s``, ``3 min 5 s``, ``2 h 10 min``."""
    seconds = round(max(seconds, 0.0))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


class LogProgress:
    """One line per finished job with counties done, failed, remaining and time left."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._clock = clock
        self._started = 0.0

    def _print(self, text: str) -> None:
        print(f"audit batch: {text}", file=self._stream, flush=True)

    def start(self, tally: Tally) -> None:
        """Say how much there is to do and how much an earlier run already did."""
        self._started = self._clock()
        resumed = f", {tally.jobs_skipped} already done" if tally.jobs_skipped else ""
        self._print(f"{tally.jobs_total} jobs for {tally.counties_total} counties{resumed}")

    def advance(self, line: str, tally: Tally, *, ok: bool) -> None:
        """Print the job's line with the tally and an estimate of the time left."""
        ran = tally.jobs_finished - tally.jobs_skipped
        left = tally.jobs_total - tally.jobs_finished
        estimate = ""
        if ran > 0 and left > 0:
            estimate = f", about {duration_text((self._clock() - self._started) / ran * left)} left"
        self._print(f"[{tally.jobs_finished}/{tally.jobs_total}] {line}; {tally.counties_text()}{estimate}")

    def close(self, tally: Tally) -> None:
        """Print the final tally and how long the jobs took."""
        self._print(f"finished in {duration_text(self._clock() - self._started)}: {tally.counties_text()}")


class BarProgress:
    """A tqdm bar of jobs with the county tally beside it; failures are printed above the bar."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._bar = None

    def start(self, tally: Tally) -> None:
        """Draw the bar, starting from the jobs an earlier run already did."""
        from tqdm import tqdm  # start-up time: the CLI imports this module, and tqdm is slow to import

        try:
            width = os.get_terminal_size(self._stream.fileno()).columns
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            width = 0
        # tqdm hides its bar on a terminal that reports no size (a pseudo-terminal under `script`, say)
        size = {"dynamic_ncols": True} if width > 0 else {"ncols": 100, "nrows": 20}
        self._bar = tqdm(
            total=tally.jobs_total,
            initial=tally.jobs_finished,
            unit="job",
            file=self._stream,
            desc="audit batch",
            **size,
        )
        self._bar.set_postfix_str(tally.counties_text())

    def advance(self, line: str, tally: Tally, *, ok: bool) -> None:
        """Move the bar by one job; a failure is written out so its reason stays on screen."""
        if not ok:
            self._bar.write(f"audit batch: {line}", file=self._stream)
        self._bar.set_postfix_str(tally.counties_text(), refresh=False)
        self._bar.update(1)

    def close(self, tally: Tally) -> None:
        """Close the bar."""
        self._bar.set_postfix_str(tally.counties_text())
        self._bar.close()


def progress_for(stream: TextIO | None = None) -> Progress:
    """A bar when ``stream`` (default stderr) is a terminal, plain log lines when it is not."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return BarProgress(stream)
    return LogProgress(stream)
