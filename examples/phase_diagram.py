"""Which assumption fails first, over the automatable share p and the complexity brake beta.

A sweep of the loop model over a 101 x 101 grid of (p, beta), with the research-speed
elasticity a = 1, an initial growth rate g0 = 0.2 per year and 10% of efficiency lost per
year, followed for 30 years.  Each cell is coloured by the assumption of recursive
self-improvement that fails first: closure where the human share of the work soon
dominates (small p), amplification where the brake outweighs the AI's speed-up (large
beta), efficiency where the loop is nearly closed and amplifying but friction halves it
first.  Hatched cells (p = 1, weak brake) reach a finite-time singularity.

Run: ``python examples/phase_diagram.py [OUTDIR]``.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np

import lsi
import lsi.figures


def main(out: Path) -> Path:
    grid = lsi.sweep(
        lsi.models.Loop(),
        until=30.0,
        g0=0.2,
        a=1.0,
        delta=0.1,
        p=np.linspace(0.5, 1.0, 101),
        beta=np.linspace(0.0, 1.0, 101),
    )
    fig = lsi.figures.phase(grid, "p", "beta")
    lsi.figures.save(fig, out / "phase_diagram.pdf")
    return lsi.figures.save(fig, out / "phase_diagram.png", dpi=200)


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="lsi-examples-"))
    print(main(folder))
