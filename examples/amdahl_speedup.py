"""Amdahl's law for the R&D loop: the speed-up saturates at 1/(1-p).

The speed-up S = 1 / ((1-p) + p e^{-a l}) of an R&D cycle in which the AI does a share p
of the work, e^{a l} times faster as its capability C/C0 = e^l grows (a = 1).  Open
circles mark Amdahl's knee, where the closure kappa falls to 1/2: past it the human
share dominates and more capable AI barely speeds the loop.

Run: ``python examples/amdahl_speedup.py [OUTDIR]``.
"""

import sys
import tempfile
from pathlib import Path

import lsi.figures


def main(out: Path) -> Path:
    fig = lsi.figures.amdahl_speedup(p=[0.5, 0.9, 0.99, 0.999], a=1.0)
    lsi.figures.save(fig, out / "amdahl_speedup.pdf")
    return lsi.figures.save(fig, out / "amdahl_speedup.png", dpi=200)


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="lsi-examples-"))
    print(main(folder))
