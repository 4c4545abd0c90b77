"""Start-up cost, side by side in one run (not a test).

Targets (issue: a package that imports fast):
- ``import lsi`` within 1.6x of ``python -c "import numpy, pandas"``;
- ``lsi --help`` within 3x of ``python -c "import numpy"``.

Each command runs in a fresh interpreter, interleaved round by round so that a noisy machine
slows every contender alike; the medians and their ratios are printed.

Run:  python benchmarks/bench_import.py [rounds]
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

PY = sys.executable
LSI = shutil.which("lsi")
COMMANDS = {
    "python (bare)": [PY, "-c", "pass"],
    "import numpy": [PY, "-c", "import numpy"],
    "import numpy, pandas": [PY, "-c", "import numpy, pandas"],
    "import lsi": [PY, "-c", "import lsi"],
    "lsi --help": [LSI, "--help"] if LSI else [PY, "-m", "lsi", "--help"],
    "import lsi; lsi.fit (first use)": [PY, "-c", "import lsi; lsi.fit"],
}


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    times: dict[str, list[float]] = {k: [] for k in COMMANDS}
    for _ in range(rounds):
        for name, cmd in COMMANDS.items():
            t = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"median of {rounds} fresh interpreters each (seconds)")
    for k, v in med.items():
        print(f"  {k:<34} {v:7.3f}")
    r1 = med["import lsi"] / med["import numpy, pandas"]
    r2 = med["lsi --help"] / med["import numpy"]
    print()
    print(f"import lsi / import numpy, pandas : {r1:5.2f}   (target <= 1.6)")
    print(f"lsi --help / import numpy         : {r2:5.2f}   (target <= 3)")


if __name__ == "__main__":
    main()
