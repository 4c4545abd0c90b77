"""Fitted growth models on METR's task time horizons.

Every growth model fitted to METR's 50% task-completion time horizons of frontier models,
with the published 95% intervals as error bars, and the residuals (in ln units) below.
The legend gives each model's Akaike weight; "n.i." marks models whose parameters the
data cannot identify.

Run: ``python examples/fit_metr.py [OUTDIR]`` (PNG and PDF; a temporary folder by default).
"""

import sys
import tempfile
from pathlib import Path

import lsi
import lsi.figures


def main(out: Path) -> Path:
    series = lsi.datasets.load("metr_horizons")
    fits = lsi.fit(series)
    fig = lsi.figures.fit(fits, ylabel="50% time horizon (minutes)")
    lsi.figures.save(fig, out / "fit_metr.pdf")
    return lsi.figures.save(fig, out / "fit_metr.png", dpi=200)


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="lsi-examples-"))
    print(main(folder))
