"""Doubling times of METR's time horizons along the history.

The doubling time implied by each of the three best models at every date (with its 95%
band), beside a model-free reading: exponential fits to sliding windows of six
releases.  Shrinking doubling times are what self-amplification predicts.  An arrow to
the top edge marks an interval that is unbounded above (the local growth rate's
interval reaches zero).

Run: ``python examples/doubling_times.py [OUTDIR]``.
"""

import sys
import tempfile
from pathlib import Path

import lsi
import lsi.figures


def main(out: Path) -> Path:
    fits = lsi.fit(lsi.datasets.load("metr_horizons"))
    fig = lsi.figures.doubling_times(fits, window=6)
    lsi.figures.save(fig, out / "doubling_times.pdf")
    return lsi.figures.save(fig, out / "doubling_times.png", dpi=200)


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="lsi-examples-"))
    print(main(folder))
