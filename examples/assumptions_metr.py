"""Which assumption of recursive self-improvement fails first, on METR's time horizons.

Every model fitted to METR's 50% time horizons is embedded in the loop model, so a
comparison of models is also evidence about the assumptions.  Left: the probability
that each assumption fails first, by Akaike weights (solid) and by 200 bootstrap
refits (hatched; ``lsi report`` uses 1000).  Right: when it fails, one dot per
bootstrap replicate at the date its best model has that assumption fail first, with
the 5-95% range boxed; below the dashed line, replicates whose best model explodes
in a finite-time singularity before anything fails (not a failure).  Diamonds mark
each model's own fit.  Bottom left: the data alone, whether doubling times shrink.

Run: ``python examples/assumptions_metr.py [OUTDIR]``.
"""

import sys
import tempfile
from pathlib import Path

import lsi
import lsi.figures


def main(out: Path) -> Path:
    fits = lsi.fit(lsi.datasets.load("metr_horizons"))
    report = lsi.assumptions(fits, n_boot=200, seed=0)
    fig = lsi.figures.assumptions(report, fits=fits)
    lsi.figures.save(fig, out / "assumptions_metr.pdf")
    return lsi.figures.save(fig, out / "assumptions_metr.png", dpi=200)


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="lsi-examples-"))
    print(main(folder))
