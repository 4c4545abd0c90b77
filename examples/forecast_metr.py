"""Forecast of METR's time horizons to 2030, and when a work-month horizon arrives.

The model-averaged forecast (Akaike weights over every fitted model; 500 bootstrap
refits) with its 90% band for the curve and for new observations, the bootstrap
mixture's band outlined, and below it the date at which each of the three best models,
and the two averages, reach a 167-hour (one work-month) horizon, with 90% intervals.

Run: ``python examples/forecast_metr.py [OUTDIR]``.
"""

import sys
import tempfile
from pathlib import Path

import lsi
import lsi.figures

WORK_MONTH = 167 * 60.0  # minutes


def main(out: Path) -> Path:
    series = lsi.datasets.load("metr_horizons")
    fits = lsi.fit(series)
    ds = fits.forecast(until=2030, level=0.9, n=500)  # 500 bootstrap refits, shared below
    reach = fits.time_to_reach(WORK_MONTH, ci_level=0.9, n=500)
    best = sorted((r for r in fits.values() if r.converged), key=lambda r: r.aicc)[:3]
    rows = {k: reach[k] for k in ["averaged", "bootstrap_mixture"] + [r.name for r in best]}
    fig = lsi.figures.forecast(ds, rows, target=WORK_MONTH, series=series, ylabel="50% time horizon (minutes)")
    lsi.figures.save(fig, out / "forecast_metr.pdf")
    return lsi.figures.save(fig, out / "forecast_metr.png", dpi=200)


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="lsi-examples-"))
    print(main(folder))
