"""Spawn-safe worker processes for embarrassingly parallel loops (bootstrap refits, simulations).

:func:`run` splits the items into contiguous blocks, one per process: the calling process
works through the first, each worker process through one of the others.  Workers are fresh
interpreters started with :mod:`subprocess`: never forked from a process that may hold numba
or BLAS threads, and never re-running the user's ``__main__`` (so scripts without an
``if __name__ == "__main__"`` guard, and notebooks, work as they are).  The task must be a
module-level function of an importable module; it and its shared argument travel by pickle.

Which process computes which item is fixed by the number of processes alone, and workers
start with a fixed hash seed, so a run is reproducible: MINPACK's arithmetic depends (in the
last bits) on the memory alignment of its work arrays, and on an ill-conditioned refit those
bits can move the optimum found along a flat direction, so an item must not wander between
processes from run to run.  A worker that dies has its remaining items redone in the calling
process.  An interrupt ends the workers quietly (they ignore SIGINT; the
caller sees one ``KeyboardInterrupt``).
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["run", "default_processes"]

# the worker's program: read sys.path, then the task and its shared argument, then items until EOF
_WORKER = (
    "import pickle, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "inp, out = sys.stdin.buffer, sys.stdout.buffer\n"
    "sys.stdout = sys.stderr\n"
    "sys.path[:] = pickle.load(inp)\n"
    "task, shared = pickle.load(inp)\n"
    "while True:\n"
    "    try:\n"
    "        item = pickle.load(inp)\n"
    "    except EOFError:\n"
    "        break\n"
    "    pickle.dump(task(shared, item), out, protocol=pickle.HIGHEST_PROTOCOL)\n"
    "    out.flush()\n"
)


def _blocks(n: int, processes: int) -> list[range]:
    """Contiguous blocks of ``range(n)``, one per process, as equal as can be."""
    edges = [round(k * n / processes) for k in range(processes + 1)]
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
    def __init__(self, task: Callable[[Any, Any], Any], shared: Any):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.inp, self.out = self.proc.stdin, self.proc.stdout
        pickle.dump(list(sys.path), self.inp)
        pickle.dump((task, shared), self.inp, protocol=pickle.HIGHEST_PROTOCOL)
        self.inp.flush()

    def __call__(self, item: Any) -> Any:
        pickle.dump(item, self.inp, protocol=pickle.HIGHEST_PROTOCOL)
        self.inp.flush()
        return pickle.load(self.out)

    def close(self) -> None:
        for f in (self.inp, self.out):
            try:
                f.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck worker
            self.proc.kill()

    def kill(self) -> None:
        self.proc.kill()
        self.close()


def run(
    task: Callable[[Any, Any], Any],
    shared: Any,
    items: Sequence[Any],
    *,
    processes: int = 1,
    done: Callable[[int, Any], None] | None = None,
) -> list[Any]:
    """``[task(shared, item) for item in items]``, spread over ``processes`` processes.

    The calling process works too (the first block), so ``processes = 1`` starts no worker.  ``done(i, result)``
    is called in the calling thread as each result arrives (for progress), in any order.
    """
    n = len(items)
    results: list[Any] = [None] * n
    if processes <= 1 or n <= 1:
        for i, item in enumerate(items):
            results[i] = task(shared, item)
            if done is not None:
                done(i, results[i])
        return results

    blocks = [list(b) for b in _blocks(n, processes)]
    arrived: deque[int] = deque()
    failed: deque[int] = deque()
    workers: list[_Worker] = []

    def feed(w: _Worker, block: list[int]) -> None:
        for k, i in enumerate(block):
            try:
                results[i] = w(items[i])
            except Exception:  # noqa: BLE001 - the worker died: its remaining items are redone here
                failed.extend(block[k:])
                return
            arrived.append(i)

    def drain() -> None:
        while arrived:
            i = arrived.popleft()
            if done is not None:
                done(i, results[i])

    threads: list[threading.Thread] = []
    try:
        for block in blocks[1:]:
            try:
                w = _Worker(task, shared)
            except OSError:  # pragma: no cover - cannot start a process: its block is done here
                failed.extend(block)
                continue
            workers.append(w)
            threads.append(threading.Thread(target=feed, args=(w, block), daemon=True))
        for t in threads:
            t.start()
        for i in blocks[0]:
            results[i] = task(shared, items[i])
            if done is not None:
                done(i, results[i])
            drain()
        for t in threads:
            t.join()
        drain()
        while failed:  # items of a worker that died (or never started)
            i = failed.popleft()
            results[i] = task(shared, items[i])
            if done is not None:
                done(i, results[i])
    except BaseException:
        for w in workers:
            w.kill()
        raise
    for w in workers:
        w.close()
    return results
