"""Spawn-safe worker processes for embarrassingly parallel loops (bootstrap refits, simulations).

:func:`run` splits the items into contiguous blocks, one per process: the calling process
works through the first, each worker process through one of the others.  Workers are fresh
interpreters started with :mod:`subprocess`: never forked from a process that may hold numba
or BLAS threads, and never re-running the user's ``__main__`` (so scripts without an
``if __name__ == "__main__"`` guard, and notebooks, work as they are).  The task must be a
module-level function of an importable module; it, its shared argument and the items travel
by pickle.

A run is reproducible.  Which process computes which item is fixed by the number of
processes alone; workers start with a fixed hash seed; and the calling process runs no thread
while it works (a worker's block goes out before it starts, the results come back after it is
done, and progress arrives as single bytes on a pipe).  That matters because MINPACK's
arithmetic depends, in the last bits, on the memory alignment of its work arrays: on an
ill-conditioned refit those bits can move the optimum found along a flat direction, so an
item must meet the same process state from run to run.

A worker that dies has its block redone in the calling process.  An interrupt ends the
workers quietly (they ignore SIGINT; the caller sees one ``KeyboardInterrupt``).
"""

from __future__ import annotations

import os
import pickle
import selectors
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["run", "run_jobs", "Job", "default_processes"]

# the worker's program: read sys.path, then the task, its shared argument and the block's items;
# compute them, writing one byte to stderr as each is done, then all results to stdout
_WORKER = (
    "import pickle, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "inp, out, tick = sys.stdin.buffer, sys.stdout.buffer, sys.stderr.buffer\n"
    "sys.stdout = sys.stderr = open('/dev/null' if sys.platform != 'win32' else 'nul', 'w')\n"
    "sys.path[:] = pickle.load(inp)\n"
    "task, shared, items = pickle.load(inp)\n"
    "results = []\n"
    "for item in items:\n"
    "    results.append(task(shared, item))\n"
    "    tick.write(b'.')\n"
    "    tick.flush()\n"
    "pickle.dump(results, out, protocol=pickle.HIGHEST_PROTOCOL)\n"
    "out.flush()\n"
)


def _blocks(n: int, processes: int, first_share: float | None = None) -> list[range]:
    """Contiguous blocks of ``range(n)``, one per process, as equal as can be, or with the
    first (the calling process's, which starts at once) holding ``first_share`` of the items."""
    if first_share is None or processes < 2:
        edges = [round(k * n / processes) for k in range(processes + 1)]
    else:
        first = min(n - (processes - 1), max(1, round(first_share * n)))
        edges = [0] + [first + round(k * (n - first) / (processes - 1)) for k in range(processes)]
    return [range(edges[k], edges[k + 1]) for k in range(processes)]


def default_processes(work: int, threshold: int = 200) -> int:
    """Processes for ``work`` units: two on a multi-core POSIX machine when there is enough work."""
    if work < threshold or sys.platform == "win32":
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 2))


class _Worker:
    """One worker process and its block of items."""

    def __init__(self, task: Callable[[Any, Any], Any], shared: Any, items: list[Any]):
        self.n = len(items)
        self.ticks = 0
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None and self.proc.stderr is not None
        self.out, self.err = self.proc.stdout, self.proc.stderr
        os.set_blocking(self.err.fileno(), False)
        try:
            pickle.dump(list(sys.path), self.proc.stdin)
            pickle.dump((task, shared, items), self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.proc.stdin.close()
        except OSError:  # the worker died at once; its block is redone by the caller
            self.kill()
            raise

    def poll_ticks(self) -> int:
        """Items finished since the last call (never blocks)."""
        try:
            got = self.err.read(65536)
        except OSError:
            return 0
        k = len(got) if got else 0
        self.ticks += k
        return k

    def results(self) -> list[Any] | None:
        """The block's results (blocks until the worker is done); None if the worker failed."""
        try:
            res = pickle.load(self.out)
        except Exception:  # noqa: BLE001 - the worker died: its block is redone by the caller
            res = None
        self.close()
        return res if isinstance(res, list) and len(res) == self.n else None

    def close(self) -> None:
        for f in (self.out, self.err):
            try:
                f.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck worker
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        self.proc.kill()
        self.close()


def run(
    task: Callable[[Any, Any], Any],
    shared: Any,
    items: Sequence[Any],
    *,
    processes: int = 1,
    progress: Callable[[int], None] | None = None,
    first_share: float | None = None,
) -> list[Any]:
    """``[task(shared, item) for item in items]``, spread over ``processes`` processes.

    ``first_share``: the share of the items the calling process takes (default an equal
    share); more than ``1 / processes`` makes up for the second or so a worker spends starting.

    The calling process works too (the first block), so ``processes = 1`` starts no worker.
    ``progress(i)`` is called in the calling process with the index of each item as it is
    done, wherever it was computed, exactly once per item (a dead worker's block included):
    a bar fed by it reaches ``len(items)`` whatever the number of processes.  Each worker
    writes one byte on a pipe per finished item; the caller reads them between its own items
    and then as they come, and reports each as it arrives.
    """
    n = len(items)
    done = progress or (lambda i: None)
    if processes <= 1 or n <= 1:
        out = []
        for i, item in enumerate(items):
            out.append(task(shared, item))
            done(i)
        return out

    def tick(w: _Worker | None, block: range) -> None:
        if w is not None:
            before = w.ticks
            w.poll_ticks()
            for i in block[before : w.ticks]:
                done(i)

    blocks = _blocks(n, min(processes, n), first_share)
    workers: list[tuple[_Worker | None, range]] = []
    try:
        for block in blocks[1:]:
            try:
                workers.append((_Worker(task, shared, [items[i] for i in block]), block))
            except OSError:  # pragma: no cover - cannot start a process: its block is done here
                workers.append((None, block))
        results: list[Any] = [None] * n
        for i in blocks[0]:
            results[i] = task(shared, items[i])
            done(i)
            for w, block in workers:
                tick(w, block)
        sel = selectors.DefaultSelector()
        for w, block in workers:
            if w is not None:
                sel.register(w.err, selectors.EVENT_READ, (w, block))
        while any(w is not None and w.ticks < w.n and w.proc.poll() is None for w, _ in workers):
            for key, _ in sel.select(timeout=0.5):
                tick(*key.data)
        sel.close()
        for w, block in workers:
            tick(w, block)
            got = None if w is None else w.results()
            if got is None:  # the worker failed: its block is done here
                got = []
                for i in block:
                    got.append(task(shared, items[i]))
                    if w is None or i >= block[0] + w.ticks:
                        done(i)
            for i, r in zip(block, got, strict=True):
                results[i] = r
    except BaseException:
        for w, _ in workers:
            if w is not None:
                w.kill()
        raise
    return results


@dataclass(frozen=True)
class Job:
    """One embarrassingly parallel piece of work for :func:`run_jobs`: ``task(shared, item)`` for
    each item, then ``finish(results)`` (in the calling process) makes the answer.

    ``units`` gives each item's weight in the progress bar (default one each), ``front``
    (0 to 1) where in the combined sequence a single-item job goes: items are spread over the
    sequence so that each process's contiguous block holds its share of every job.
    """

    task: Callable[[Any, Any], Any]
    shared: Any
    items: Sequence[Any]
    finish: Callable[[list[Any]], Any]
    units: Sequence[int] | None = None
    front: float | None = None
    name: str = field(default="")


def _job_task(shared: Sequence[tuple[Callable[[Any, Any], Any], Any]], item: tuple[int, Any]) -> Any:
    j, inner = item
    task, sh = shared[j]
    return task(sh, inner)


def run_jobs(
    jobs: Sequence[Job],
    *,
    processes: int = 1,
    progress: Callable[[int], None] | None = None,
    first_share: float | None = None,
) -> list[Any]:
    """Several jobs in one pool of processes (one start-up for all), each job's answer in order.

    The items of every job are interleaved, each job's spread evenly over the combined
    sequence, so that with :func:`run`'s contiguous blocks every process gets its share of
    each job whatever their costs.  The order depends on the jobs alone, so a run is
    reproducible for a given number of processes.  ``progress(units)`` is called as each item
    is done, with its units; ``first_share`` is passed to :func:`run` (the calling process then
    holds that share of every job).
    """
    keyed: list[tuple[float, int, int]] = []
    for j, job in enumerate(jobs):
        m = len(job.items)
        for k in range(m):
            key = job.front if (m == 1 and job.front is not None) else (k + 0.5) / m
            keyed.append((key, j, k))
    keyed.sort()
    items = [(j, jobs[j].items[k]) for _, j, k in keyed]
    weights = [int(u[k]) if (u := jobs[j].units) is not None else 1 for _, j, k in keyed]
    shared = [(job.task, job.shared) for job in jobs]
    done = None if progress is None else (lambda i: progress(weights[i]))
    flat = run(_job_task, shared, items, processes=processes, progress=done, first_share=first_share)
    per: list[list[Any]] = [[None] * len(job.items) for job in jobs]
    for (_, j, k), r in zip(keyed, flat, strict=True):
        per[j][k] = r
    return [job.finish(res) for job, res in zip(jobs, per, strict=True)]
