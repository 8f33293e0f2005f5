"""Progress of a batch: plain lines off a terminal, a tqdm bar on one."""

from __future__ import annotations

import io

from audit.progress import BarProgress, LogProgress, Tally, duration_text, progress_for


class _Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _tally(done: int = 0, failed: int = 0, finished: int = 0, skipped: int = 0) -> Tally:
    return Tally(
        counties_total=3,
        counties_done=done,
        counties_failed=failed,
        jobs_total=10,
        jobs_finished=finished,
        jobs_skipped=skipped,
    )


def test_plain_lines_when_not_a_terminal():
    stream = io.StringIO()
    assert isinstance(progress_for(stream), LogProgress)


def test_bar_on_a_terminal():
    assert isinstance(progress_for(_Terminal()), BarProgress)


def test_durations():
    assert duration_text(44.6) == "45 s"
    assert duration_text(185) == "3 min 5 s"
    assert duration_text(7800) == "2 h 10 min"
    assert duration_text(-3) == "0 s"


def test_counties_remaining():
    assert _tally(done=1, failed=1).counties_remaining == 1


def test_log_lines_give_counties_and_time_left():
    stream, clock = io.StringIO(), _Clock()
    progress = LogProgress(stream, clock)
    progress.start(_tally())
    clock.now += 5  # one job in 5 s, nine left: 45 s
    progress.advance("540102 contracts ok in 5.0 s", _tally(finished=1), ok=True)
    clock.now += 5
    progress.advance("540103 relief failed: boom", _tally(failed=1, finished=10), ok=False)
    progress.close(_tally(done=2, failed=1, finished=10))
    assert stream.getvalue().splitlines() == [
        "audit batch: 10 jobs for 3 counties",
        "audit batch: [1/10] 540102 contracts ok in 5.0 s; "
        "counties 0 done, 0 failed, 3 remaining, about 45 s left",
        "audit batch: [10/10] 540103 relief failed: boom; counties 0 done, 1 failed, 2 remaining",
        "audit batch: finished in 10 s: counties 2 done, 1 failed, 0 remaining",
    ]


def test_resumed_jobs_do_not_count_towards_the_rate():
    stream, clock = io.StringIO(), _Clock()
    progress = LogProgress(stream, clock)
    progress.start(_tally(finished=6, skipped=6))
    clock.now += 10  # one job run in 10 s, three left: 30 s, not 10 / 7 * 3
    progress.advance("540102 report ok in 10.0 s", _tally(finished=7, skipped=6), ok=True)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "audit batch: 10 jobs for 3 counties, 6 already done"
    assert lines[1].endswith("about 30 s left")


def test_bar_shows_tally_and_keeps_failures_on_screen():
    stream = _Terminal()
    progress = BarProgress(stream)
    progress.start(_tally())
    progress.advance("540102 contracts ok in 1.0 s", _tally(finished=1), ok=True)
    progress.advance("540103 relief failed: boom", _tally(failed=1, finished=2), ok=False)
    progress.close(_tally(done=2, failed=1, finished=10))
    text = stream.getvalue()
    assert "audit batch: 540103 relief failed: boom\n" in text
    assert "540102 contracts ok" not in text  # successes only move the bar
    assert "counties 2 done, 1 failed, 0 remaining" in text
    assert "\r" in text  # redrawn in place
