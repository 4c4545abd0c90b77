"""Worker processes: the same results as one process, every item's progress reported once,
a dead worker's block redone, scripts without a main guard, and reproducible bootstraps."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from lsi import progress, workers


def square_plus(shared: int, item: int) -> int:
    return item * item + shared


def pid_of(shared: None, item: int) -> int:
    return os.getpid()


def die_in_worker(shared: int, item: int) -> int:
    if os.getpid() != shared:  # any process but the caller's dies
        os._exit(3)
    return item


def test_results_match_one_process_and_progress_sees_each_item_once():
    items = list(range(23))
    seen: list[int] = []
    out = workers.run(square_plus, 5, items, processes=2, progress=seen.append)
    assert out == [i * i + 5 for i in items]
    assert sorted(seen) == items


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_fed_by_two_processes_reaches_the_number_of_items():
    out = _Tty()
    items = list(range(40))
    with progress.Progress(len(items), "work", stream=out, min_interval=0.0) as bar:
        workers.run(square_plus, 0, items, processes=2, progress=lambda i: bar.update())
        assert bar.bar.n == 40  # the worker's half was counted, not only the caller's
    assert bar.done == 40 and "40/40" in out.getvalue()


def test_the_bootstrap_bar_counts_every_replicate_with_two_workers(monkeypatch):
    import lsi

    from .conftest import simulate

    updates: list[int] = []
    shown: list[int] = []

    class Recording(progress.Progress):
        def update(self, n: int = 1) -> None:
            updates.append(n)
            super().update(n)

        def close(self) -> None:
            shown.append(self.bar.n)
            super().close()

    monkeypatch.setattr(progress, "Progress", Recording)
    fits = lsi.fit(simulate("exponential", {"C0": 1.0, "g": 0.7}), ["exponential"], warn=False)
    boot = fits.bootstrap(100, processes=2, progress=True)  # 4 chunks of 25: two are the worker's
    assert boot.n == 100
    assert sum(updates) == 100 and len(updates) == 4
    assert shown == [100]


def test_blocks_are_contiguous_and_fixed_by_the_process_count():
    pids = workers.run(pid_of, None, list(range(10)), processes=2)
    assert pids[:5] == [os.getpid()] * 5
    assert len(set(pids[5:])) == 1 and pids[5] != os.getpid()
    assert [list(b) for b in workers._blocks(7, 3)] == [[0, 1], [2, 3, 4], [5, 6]]


def test_a_dead_worker_has_its_block_redone_here():
    seen: list[int] = []
    out = workers.run(die_in_worker, os.getpid(), list(range(8)), processes=2, progress=seen.append)
    assert out == list(range(8))
    assert sorted(seen) == list(range(8))


def test_a_script_without_a_main_guard_can_use_worker_processes(tmp_path):
    script = tmp_path / "no_guard.py"
    script.write_text(
        textwrap.dedent(
            """
            import numpy as np, lsi
            t = np.linspace(2015, 2025, 25)
            y = np.exp(0.5 * (t - 2015) + np.random.default_rng(1).normal(0, 0.1, 25))
            fits = lsi.fit(lsi.Series(t, y), models=["exponential", "logistic"], noise="log", warn=False)
            b = fits.bootstrap(60, seed=2, processes=2)
            print("OK", b.n, float(np.nanmean(b.theta["exponential"][:, 1])))
            """
        )
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("OK 60")


@pytest.mark.slow
def test_bootstrap_with_workers_is_reproducible_and_equals_one_process():
    import lsi

    rng = np.random.default_rng(4)
    t = np.linspace(2015, 2025, 30)
    y = np.exp(0.6 * (t - 2015) + rng.normal(0, 0.15, 30))
    fits = lsi.fit(lsi.Series(t, y), models=["exponential", "hyperbolic", "amdahl"], noise="log", warn=False)
    a = lsi.bootstrap.bootstrap(fits, 80, seed=1, processes=2)
    b = lsi.bootstrap.bootstrap(fits, 80, seed=1, processes=2)
    c = lsi.bootstrap.bootstrap(fits, 80, seed=1, processes=1)
    for m in a.models:
        assert np.array_equal(a.theta[m], b.theta[m], equal_nan=True)
    assert np.array_equal(a.aicc, b.aicc)
    # one process and two agree to the refits' own tolerance: MINPACK's last bits depend on memory
    # alignment, so on a flat direction a refit may land elsewhere (or just miss verification)
    both = np.isfinite(a.aicc) & np.isfinite(c.aicc) & a.converged & c.converged
    assert np.mean(a.converged == c.converged) > 0.97
    assert np.mean(np.abs(a.aicc[both] - c.aicc[both]) < 1e-6) > 0.97


def test_the_calling_process_can_take_a_larger_share():
    from lsi.workers import _blocks

    assert [len(b) for b in _blocks(100, 2)] == [50, 50]
    assert [len(b) for b in _blocks(100, 2, 0.55)] == [55, 45]
    assert [len(b) for b in _blocks(3, 2, 0.99)] == [2, 1]  # every process keeps an item
    blocks = _blocks(101, 3, 0.5)
    assert blocks[0] == range(0, 50) and sum(len(b) for b in blocks) == 101
    assert [b.start for b in blocks[1:]] == [blocks[0].stop, blocks[1].stop]


def test_jobs_in_one_pool_give_the_same_answers_as_alone():
    from lsi.workers import Job, run, run_jobs

    a = Job(_square, 3, list(range(20)), finish=sum)
    b = Job(_square, 1, list(range(7)), finish=list, front=0.2)
    alone = [sum(run(_square, 3, list(range(20)))), run(_square, 1, list(range(7)))]
    for procs, share in ((1, None), (2, None), (2, 0.55)):
        assert run_jobs([a, b], processes=procs, first_share=share) == alone


def _square(k, x):
    return k * x * x
