"""Snapshot the JSON of ``lsi fit``, ``lsi report`` and ``lsi forecast`` on every shipped dataset.

A refactoring tool, not a test: run it before and after a change that must not alter the
answers, then compare the two folders::

    python tools/json_snapshot.py write before/
    ... change the code ...
    python tools/json_snapshot.py write after/
    python tools/json_snapshot.py compare before/ after/

``compare`` prints every path whose value differs (floats compared exactly) and exits 1 if any.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

COMMANDS = {
    "fit": ["fit", "{d}", "--json"],
    "report": ["report", "{d}", "--json", "--bootstrap", "200"],
    "forecast": ["forecast", "{d}", "--json", "--until", "2030", "--n", "200"],
}


def datasets() -> list[str]:
    out = subprocess.run([sys.executable, "-m", "lsi", "datasets"], capture_output=True, text=True, check=True)
    return [line.split()[0] for line in out.stdout.splitlines() if line.strip()]


def write(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for d in datasets():
        for name, argv in COMMANDS.items():
            cmd = [sys.executable, "-m", "lsi", *[a.format(d=d) for a in argv]]
            res = subprocess.run(cmd, capture_output=True, text=True)
            target = folder / f"{d}.{name}.json"
            if res.returncode == 0:
                target.write_text(res.stdout)
            else:
                target.write_text(json.dumps({"exit": res.returncode, "stderr": res.stderr.strip()[-400:]}))
            print(f"{target.name}: exit {res.returncode}", flush=True)


def _diff(a, b, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}.{k}: only in {'after' if k not in a else 'before'}")
            else:
                _diff(a[k], b[k], f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path}: {str(a)[:80]} -> {str(b)[:80]}")


def compare(before: Path, after: Path) -> int:
    bad = 0
    for f in sorted(before.glob("*.json")):
        g = after / f.name
        if not g.exists():
            print(f"{f.name}: missing after")
            bad += 1
            continue
        out: list[str] = []
        _diff(json.loads(f.read_text()), json.loads(g.read_text()), f.stem, out)
        for line in out:
            print(line)
        bad += bool(out)
    print(f"{bad} file(s) differ")
    return 1 if bad else 0


if __name__ == "__main__":
    verb, *args = sys.argv[1:]
    if verb == "write":
        write(Path(args[0]))
    else:
        sys.exit(compare(Path(args[0]), Path(args[1])))
