"""Progress on long work: a tqdm bar on a terminal and in a notebook, silent otherwise, that
starts no thread and loads tqdm only when it shows."""

from __future__ import annotations

import io
import subprocess
import sys
import threading

import lsi
from lsi import progress
from lsi.progress import Progress

from .conftest import simulate


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_not_a_terminal():
    out = io.StringIO()
    with Progress(10, "work", stream=out) as bar:
        for _ in range(10):
            bar.update()
    assert out.getvalue() == ""
    assert bar.done == 10 and not bar.enabled


def test_silent_when_disabled_even_on_a_terminal():
    out = _Tty()
    with Progress(10, "work", stream=out, enabled=False) as bar:
        bar.update(10)
    assert out.getvalue() == "" and bar.done == 10


def test_counts_on_a_terminal():
    out = _Tty()
    with Progress(4, "work", stream=out, min_interval=0.0) as bar:
        for _ in range(4):
            bar.update()
    text = out.getvalue()
    assert "work: 100%" in text and "4/4" in text and text.endswith("\n")


def test_shown_in_a_notebook_without_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    with Progress(3, "notebook") as bar:
        bar.update(3)
    assert bar.enabled and "3/3" in capsys.readouterr().err


def test_not_a_notebook_here():
    assert not progress.in_notebook()


def test_a_bar_starts_no_thread():
    # the worker pool keeps the calling process free of threads while it computes
    from tqdm.std import TMonitor

    before = set(threading.enumerate())
    with Progress(5, "work", stream=_Tty(), min_interval=0.0) as bar:
        bar.update(2)
        assert set(threading.enumerate()) <= before
        assert not [t for t in threading.enumerate() if isinstance(t, TMonitor)]
        bar.update(3)


def test_tqdm_is_loaded_only_when_a_bar_shows():
    code = (
        "import sys, io, lsi, lsi.progress as p\n"
        "assert 'tqdm' not in sys.modules\n"
        "with p.Progress(3, 'x', stream=io.StringIO()) as b: b.update(3)\n"
        "with p.Progress(3, 'x', enabled=False) as b: b.update(3)\n"
        "assert 'tqdm' not in sys.modules\n"
        "with p.Progress(3, 'x', enabled=True, stream=io.StringIO()) as b: b.update(3)\n"
        "assert 'tqdm' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_bootstrap_progress_is_silent_in_tests(capsys):
    fits = lsi.fit(simulate("exponential", {"C0": 1.0, "g": 0.7}), ["exponential"], warn=False)
    fits.bootstrap(5, processes=1)
    assert capsys.readouterr().err == ""
