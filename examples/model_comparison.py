"""Model comparison on ImageNet top-1 accuracy: Akaike weights and a bootstrap.

Delta AICc and Akaike weights of every model fitted to the state-of-the-art ImageNet
top-1 accuracy (a bounded score, fitted through a logit link), beside the share of
200 bootstrap refits in which each model has the lowest AICc.  When the weights and
the bootstrap disagree, the data do not separate the models.

Run: ``python examples/model_comparison.py [OUTDIR]``.
"""

import sys
import tempfile
from pathlib import Path

import lsi
import lsi.figures


def main(out: Path) -> Path:
    fits = lsi.fit(lsi.datasets.load("imagenet_top1"))
    boot = fits.bootstrap(200, seed=1)
    fig = lsi.figures.comparison(fits, bootstrap=boot)
    lsi.figures.save(fig, out / "model_comparison.pdf")
    return lsi.figures.save(fig, out / "model_comparison.png", dpi=200)


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="lsi-examples-"))
    print(main(folder))
