"""Backtest on METR's time horizons: which model would have forecast what came next.

Every model is fitted to the horizons known at each of eight forecast origins (from
mid-2024) and scored on the later ones, in ln units: the CRPS of its predictive
distribution (200 bootstrap refits per origin plus observation noise; lower is
better), the share of later points inside its 90% band, and the error of its median.
Bars summarise every scored point, dots are single origins; the naive baseline (a
straight line in ln through the last five points) is shaded, its mean CRPS dotted
across.  A model that forecast a singularity before a later point scores infinity:
a hatched bar and a triangle on the edge.

Run: ``python examples/backtest_metr.py [OUTDIR]``.
"""

import sys
import tempfile
from pathlib import Path

import lsi
import lsi.backtest
import lsi.figures


def main(out: Path) -> Path:
    bt = lsi.backtest.backtest(lsi.datasets.load("metr_horizons"), n_boot=200, seed=0)
    fig = lsi.figures.backtest(bt)
    lsi.figures.save(fig, out / "backtest_metr.pdf")
    return lsi.figures.save(fig, out / "backtest_metr.png", dpi=200)


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="lsi-examples-"))
    print(main(folder))
