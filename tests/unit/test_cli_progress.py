"""The progress bar must start no thread: reading a big workbook forks a helper process only
while no other thread runs."""

from __future__ import annotations

import io
import threading

import pytest

from pyxl import cli


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_on_a_terminal_starts_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(cli.sys, "stderr", terminal)
    before = threading.active_count()
    steps = cli._Steps(3)
    steps("reading")
    steps("validating")
    try:
        assert steps.bar is not None
        assert threading.active_count() == before
    finally:
        steps.done()
    assert "validating" in terminal.getvalue()


def test_off_a_terminal_progress_says_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    log = io.StringIO()
    monkeypatch.setattr(cli.sys, "stderr", log)
    steps = cli._Steps(3)
    steps("reading")
    steps.done()
    assert steps.bar is None and log.getvalue() == ""
