"""The package's shape, checked by machine: modules import downwards (no cycle, imports inside
functions included), no module holds several jobs' worth of lines, and ``import lsi`` and
``lsi --help`` load none of the science stack."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lsi"
HEAVY = ("numpy", "scipy", "pandas", "sympy", "lmfit", "matplotlib", "xarray", "numba", "dask")


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Line numbers inside ``if TYPE_CHECKING:`` blocks (imports for annotations only)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                for inner in ast.walk(sub):
                    if hasattr(inner, "lineno"):
                        lines.add(inner.lineno)
    return lines


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The lsi modules that ``path`` imports anywhere (functions included), TYPE_CHECKING aside."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    skip = _type_checking_lines(tree)
    out: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                root = ".".join(base + ([node.module] if node.module else []))
            else:
                root = node.module or ""
            targets = [root] + [f"{root}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in modules:
                t = t.rpartition(".")[0]
            if t and t != name and not name.startswith(t + "."):  # a package's own parents load first anyway
                out.add(t)
    return out


def graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imports_of(p, modules) for p in paths}


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(u: str) -> list[str] | None:
        state[u] = 1
        stack.append(u)
        for v in sorted(g.get(u, ())):
            if state.get(v) == 1:
                return stack[stack.index(v) :] + [v]
            if v not in state and (c := visit(v)):
                return c
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(g):
        if u not in state and (c := visit(u)):
            return c
    return None


def test_modules_import_downwards_with_no_cycle():
    g = graph()
    assert len(g) > 20
    cycle = find_cycle(g)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


#: the layers of docs/architecture.md: a module may import only from its own layer or below
LAYERS = {
    "lsi.exceptions": 0,
    "lsi._version": 0,
    "lsi.progress": 0,
    "lsi.files": 0,
    "lsi.jsonvalues": 0,
    "lsi.display": 0,
    "lsi.loopmath": 1,
    "lsi.intervals": 1,
    "lsi.selection": 1,
    "lsi.symbolic": 1,
    "lsi.series": 2,
    "lsi.datasets": 2,
    "lsi.observation": 2,
    "lsi.quadrature": 3,
    "lsi.models": 4,
    "lsi.leastsq": 5,
    "lsi.bootstrap": 5,
    "lsi.workers": 5,
    "lsi.forecast": 5,
    "lsi.summary": 5,
    "lsi.results": 5,
    "lsi.fitting": 5,
    "lsi.profile": 6,
    "lsi.backtest": 6,
    "lsi.diagnostics": 6,
    "lsi.assessment": 6,
    "lsi.sweeps": 6,
    "lsi.sensitivity": 6,
    "lsi.robustness": 6,
    "lsi.distinguishability": 6,
    "lsi.dependence": 6,
    "lsi.calibration": 6,
    "lsi.verdict": 6,
    "lsi.figures": 7,
    "lsi.paper_figures": 8,
    "lsi.report": 8,
    "lsi.cli": 9,
    "lsi.__main__": 9,
    "lsi": 9,
}


def layer(module: str) -> int:
    owners = [k for k in LAYERS if module == k or module.startswith(k + ".")]
    assert owners, f"{module} has no layer in docs/architecture.md (and LAYERS here)"
    return LAYERS[max(owners, key=len)]


def test_every_import_goes_to_the_same_layer_or_below():
    bad = [(u, v) for u, vs in graph().items() for v in vs if layer(v) > layer(u)]
    assert not bad, f"upward imports: {bad}"


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_holds_several_jobs_worth_of_lines():
    sizes = {module_name(p): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    big = {m: n for m, n in sizes.items() if n > 1500}
    assert not big, f"modules over 1,500 lines: {big}"


@pytest.mark.parametrize(
    "code",
    [
        "import lsi",
        "import lsi, lsi.cli; lsi.__version__",
        "import lsi.exceptions, lsi.datasets; lsi.datasets.list()",
    ],
)
def test_import_lsi_loads_none_of_the_science_stack(code):
    probe = f"import sys; {code}; print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


@pytest.mark.parametrize("argv", [["--help"], ["fit", "--help"], ["report", "--bogus-option"], ["nonsense"]])
def test_help_and_argument_errors_load_none_of_the_science_stack(argv):
    probe = (
        "import sys\n"
        "from lsi.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout
    assert "LOADED []" in out, out[-500:]


def test_names_on_lsi_load_on_first_use_and_stay_functions():
    probe = (
        "import lsi, lsi.sweeps, lsi.assessment, lsi.sensitivity\n"
        "print(callable(lsi.sweep), callable(lsi.assumptions), callable(lsi.fit), callable(lsi.sensitivity.sobol))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True", "True", "True"]
