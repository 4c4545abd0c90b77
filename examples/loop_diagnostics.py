"""The three diagnostics along one trajectory of the loop model.

A loop whose AI does 90% of the R&D work (p = 0.9, a = 1), against a mild complexity
brake (beta = 0.2), a resource ceiling at 10^4 times today's capability and 5% of
efficiency lost per year.  Closure kappa falls below 1/2 first (Amdahl's knee: the human
share of the cycle takes as long as the AI's), then the returns rho turn negative, and
last the efficiency eta halves.

Run: ``python examples/loop_diagnostics.py [OUTDIR]``.
"""

import sys
import tempfile
from pathlib import Path

import lsi
import lsi.figures


def main(out: Path) -> Path:
    params = {"g0": 0.5, "p": 0.9, "a": 1.0, "beta": 0.2, "ceiling": 1e4, "delta": 0.05}
    traj = lsi.models.Loop().trajectory(params, until=2045, t0=2025)
    fig = lsi.figures.loop_diagnostics(traj)
    lsi.figures.save(fig, out / "loop_diagnostics.pdf")
    return lsi.figures.save(fig, out / "loop_diagnostics.png", dpi=200)


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="lsi-examples-"))
    print(main(folder))
