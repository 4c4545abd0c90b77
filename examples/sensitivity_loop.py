"""Which parameter of the loop model matters: Sobol indices and a tornado chart.

Top: first- and total-order Sobol indices, with 95% bootstrap intervals, of three
outputs of the loop model followed for 30 years from an initial growth rate of 0.2 per
year, with uniform priors on the automatable share p (0.5-1), the complexity brake
beta (0-1), the research-speed elasticity a (0.5-1.5) and the yearly efficiency loss
delta (0-0.2): the capability reached, whether the loop opens first (closure), and
whether efficiency is lost first.  Bottom: the capability reached with one parameter
at a time at either end of its range, the others at a base point (p = 0.9, beta = 0.3,
a = 1, delta = 0.1).

Run: ``python examples/sensitivity_loop.py [OUTDIR]``.
"""

import sys
import tempfile
from pathlib import Path

import lsi.figures
from lsi.sensitivity import sobol, tornado

PRIORS = {"p": (0.5, 1.0), "beta": (0.0, 1.0), "a": (0.5, 1.5), "delta": (0.0, 0.2)}
BASE = {"g0": 0.2, "p": 0.9, "beta": 0.3, "a": 1.0, "delta": 0.1}


def main(out: Path) -> Path:
    indices = sobol(
        "loop",
        PRIORS,
        until=30.0,
        g0=0.2,
        output=["lnC_end", "first_failure:closure", "first_failure:efficiency"],
        n=1024,
        seed=0,
    )
    one_at_a_time = tornado("loop", BASE, PRIORS, until=30.0, output="lnC_end")
    fig = lsi.figures.sensitivity(indices, one_at_a_time)
    lsi.figures.save(fig, out / "sensitivity_loop.pdf")
    return lsi.figures.save(fig, out / "sensitivity_loop.png", dpi=200)


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="lsi-examples-"))
    print(main(folder))
