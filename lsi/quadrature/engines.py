"""What an engine of :func:`lsi.quadrature.solve` is: the protocol both engines follow.

An engine is a module with a :data:`NAME`, a ``solve_valid`` that solves a batch of valid
cells (:class:`~.cells.Cells`) and a ``schedule`` that decides how a call's cells are cut into
chunks and in what order (or on which threads) they run.  ``solve()`` validates, picks the
engine (:func:`lsi.quadrature.driver.resolve_engine`) and hands it the chunks.  The engines
are :mod:`.numpy_engine` (all cells of a chunk at once, the reference) and
:mod:`.numba_engine` (the same march compiled, one cell at a time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .cells import Cells

__all__ = ["ENGINES", "JIT_MIN_CELLS", "Engine", "RunChunk"]

#: Engines of :func:`lsi.quadrature.solve` (see its ``engine`` argument).
ENGINES: tuple[str, ...] = ("auto", "numpy", "numba")

#: ``engine="auto"`` uses the compiled engine from this many cells on; it is also the
#: smallest block of cells the compiled engine gives a thread.
JIT_MIN_CELLS = 2048

#: ``run(cells, max_iter)``: solve the cells (a slice or indices of the call's flattened
#: cells) with a budget of ``max_iter`` panels, store their results, and return a boolean
#: array marking the cells whose march was cut short by the budget (to be redone).
RunChunk = Callable[[np.ndarray | slice, int], np.ndarray]


class Engine(Protocol):
    """The interface of an engine module (:mod:`.numpy_engine`, :mod:`.numba_engine`)."""

    NAME: str

    def solve_valid(
        self,
        m: Cells,
        t0: np.ndarray,
        until: np.ndarray,
        kmin: np.ndarray,
        rmin: np.ndarray,
        emin: np.ndarray,
        lm: np.ndarray,
        max_iter: int = ...,
    ) -> dict[str, np.ndarray]:
        """Every result of ``solve()`` for a 1-D batch of valid cells (flat arrays, one value
        per cell; ``lm`` the logs of the multiples), plus ``_deferred``: the cells whose
        march ran out of its ``max_iter`` budget before finishing."""
        ...

    def schedule(self, size: int, chunk: int, run: RunChunk) -> None:
        """Solve ``size`` cells by calls of ``run`` on chunks of at most ``chunk`` cells."""
        ...
