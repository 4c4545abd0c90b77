"""Progress on long work (bootstraps, big sweeps, simulations): a ``tqdm`` bar on a terminal
and in a notebook (``tqdm.auto`` draws a widget there), silent elsewhere (pipes, files, CI).

``tqdm`` is imported only when a bar is shown, so ``import lsi`` and silent runs never load it.
The bar starts no thread: ``tqdm``'s monitor thread is off, because :mod:`lsi.workers` keeps
the calling process free of threads while it computes (a run must be reproducible).
"""

from __future__ import annotations

import functools
import sys
from typing import Any, TextIO

__all__ = ["Progress", "in_notebook"]


def in_notebook() -> bool:
    """Whether this is a Jupyter kernel (without importing IPython if it is not loaded)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
        return shell is not None and "IPKernelApp" in shell.config
    except Exception:  # noqa: BLE001 - an odd IPython: no widget
        return False


@functools.cache
def _bar_class(auto: bool) -> Any:
    """``tqdm.auto.tqdm`` (a widget in a notebook) or ``tqdm.std.tqdm`` (text to a stream),
    without the monitor thread."""
    import importlib

    tqdm = importlib.import_module("tqdm.auto" if auto else "tqdm.std").tqdm
    return type("LsiBar", (tqdm,), {"monitor_interval": 0, "__module__": __name__})


class Progress:
    """A progress bar: ``with Progress(total, "bootstrap") as p: ... p.update(k)``.

    Parameters
    ----------
    total : int
        Units of work (at least 1 is shown).
    desc : str
        What is counted, before the bar.
    enabled : bool, optional
        ``None`` (default): shown in a Jupyter notebook, or when ``stream`` is a terminal;
        ``True`` or ``False`` decide.
    stream : file, optional
        Where a text bar goes (default: standard error; in a notebook, a widget).
    min_interval : float
        Seconds between redraws.

    Attributes
    ----------
    done : int
        Units reported so far (counted whether or not the bar is shown).
    enabled : bool
        Whether the bar is shown.
    """

    def __init__(
        self,
        total: int,
        desc: str = "",
        *,
        enabled: bool | None = None,
        stream: TextIO | None = None,
        min_interval: float = 0.2,
    ):
        self.total = max(int(total), 1)
        self.desc = desc
        self.done = 0
        if enabled is None:
            if stream is None and in_notebook():
                enabled = True
            else:
                isatty = getattr(sys.stderr if stream is None else stream, "isatty", lambda: False)
                enabled = bool(isatty())
        self.enabled = bool(enabled)
        self.bar: Any = None
        if self.enabled:
            self.bar = _bar_class(stream is None)(
                total=self.total,
                desc=desc,
                file=sys.stderr if stream is None else stream,
                mininterval=min_interval,
                disable=False,
                leave=True,
                dynamic_ncols=stream is None,
            )

    def __enter__(self) -> Progress:
        return self

    def update(self, n: int = 1) -> None:
        """Count ``n`` more units done."""
        self.done += n
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        """Finish the bar (drawn at its final count, then a new line)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __exit__(self, *exc: object) -> None:
        self.close()
