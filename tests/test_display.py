"""Notebook renderings: what each ``_repr_html_`` shows, that every user string is escaped,
that the HTML is well formed, and that the module loads nothing but the standard library."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import lsi
from lsi import display

from .conftest import simulate

HOSTILE = "<script>alert('x')</script> & \"q\""
VOID = {"br", "hr", "img", "meta", "input", "link"}


class _Balance(HTMLParser):
    """Records unbalanced tags and any <script> element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.errors.append("script element")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def well_formed(markup: str) -> str:
    """The text of ``markup`` after checking its tags balance and no script runs."""
    p = _Balance()
    p.feed(markup)
    p.close()
    assert not p.errors and not p.stack, (p.errors, p.stack)
    return "".join(p.text)


@pytest.fixture(scope="module")
def fits() -> lsi.results.FitCollection:
    s = simulate("logistic", {"C0": 1.0, "g": 0.9, "K": 50.0}, n=25, noise=0.05, seed=3)
    s = lsi.Series(s.t, s.y, name=HOSTILE, units="<b>minutes</b>")
    return lsi.fit(s, ["exponential", "logistic", "hyperbolic"], warn=False)


def test_fit_result_html_shows_the_fit_and_escapes_the_user(fits):
    r = fits["logistic"]
    markup = r._repr_html_()
    assert "<script>" not in markup and "<b>minutes" not in markup
    text = well_formed(markup)
    assert HOSTILE in text and "<b>minutes</b>" in text  # shown as the text it is
    assert f"{r.aicc:.2f}" in text and f"{r.weight:.3f}" in text and "doubling time (days)" in text
    ci = r.conf_int()
    for name in ("C0", "g", "K"):
        assert f"<td>{name}</td>" in markup
        assert f"{ci.loc[name, 'lower']:.6g}" in text and f"{ci.loc[name, 'upper']:.6g}" in text
    dt = r.doubling_time()
    assert f"{dt.value * 365.25:.3g}" in text


def test_fit_collection_html_has_a_row_per_model_in_order_of_aicc(fits):
    markup = fits._repr_html_()
    assert "<script>" not in markup
    text = well_formed(markup)
    assert HOSTILE in text
    rows = markup.split("<tbody>")[1].split("<tr>")[1:]
    names = [row.split("<td>")[1].split("</td>")[0] for row in rows]
    assert names == [r.name for r in sorted(fits.values(), key=lambda r: r.aicc)]
    best = min(r.aicc for r in fits.values())
    for r in fits.values():
        assert f"{r.aicc:.2f}" in text and f"{r.aicc - best:.2f}" in text and f"{r.weight:.3f}" in text
    hyper = fits["hyperbolic"].singularity_time()
    if hyper is not None and hyper.value is not None:
        assert f"{hyper.value:.2f}" in text


def test_logit_noise_says_the_doubling_is_of_the_odds():
    rng = np.random.default_rng(1)
    t = np.linspace(2018, 2024, 20)
    y = 1 / (1 + np.exp(-(0.8 * (t - 2021) + rng.normal(0, 0.1, t.size))))
    fits = lsi.fit(lsi.Series(t, y), "exponential", noise="logit", warn=False)
    assert "doubling time of the odds (days)" in well_formed(fits._repr_html_())
    assert "doubling time of the odds (days)" in well_formed(fits["exponential"]._repr_html_())


def test_a_fit_that_did_not_converge_says_why_escaped(fits):
    from dataclasses import replace

    r = replace(fits["exponential"], converged=False, message=HOSTILE)
    markup = display.fit_result_html(r)
    assert "<script>" not in markup
    assert "not converged: " + HOSTILE in well_formed(markup)


def test_series_html_shows_dates_and_elides_the_middle():
    t = np.linspace(2020, 2024.5, 40)
    labels = [f"<i>m{i}</i>" for i in range(40)]
    s = lsi.Series(t, np.exp(t - 2020), labels=labels, name=HOSTILE)
    markup = display.series_html(s)
    assert "<i>" not in markup and "<script>" not in markup
    text = well_formed(markup)
    assert "2024-07-02" in text  # the last point as a date (2024.5)
    assert "<i>m0</i>" in text and "<i>m39</i>" in text and "<i>m20</i>" not in text
    assert markup.count("<tr>") == 1 + 2 * 5 + 1  # header, five at each end, the ellipsis
    short = display.series_html(lsi.Series([2020, 2021, 2022], [1.0, 2.0, 4.0]))
    assert short.count("<tr>") == 4


def test_assumption_report_html_escapes_and_orders_models():
    rep = SimpleNamespace(
        series_name=HOSTILE,
        verdict="<b>closure</b> fails first",
        probabilities={"closure": 0.7, "none": 0.3},
        bootstrap_probabilities={"closure": 0.6, "none": 0.4},
        n_boot=200,
        models=[
            {"name": "b<", "weight": 0.2, "first_failure": "none", "failure_time": None, "singularity_time": None},
            {
                "name": "a>",
                "weight": 0.8,
                "first_failure": "closure",
                "failure_time": 2027.5,
                "singularity_time": 2030.1,
            },
        ],
    )
    markup = display.assumption_report_html(rep)
    assert "<script>" not in markup and "<b>closure" not in markup
    text = well_formed(markup)
    assert HOSTILE in text and "<b>closure</b> fails first" in text and "bootstrap (200 refits)" in text
    assert text.index("a>") < text.index("b<")
    assert "2027.50" in text and "2030.10" in text


def test_display_imports_only_the_standard_library():
    tree = ast.parse(Path(display.__file__).read_text())
    checking = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    roots = set()
    for node in ast.walk(tree):
        if id(node) in checking:
            continue
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add("." if node.level else (node.module or "").split(".")[0])
    assert roots <= set(sys.stdlib_module_names), roots
    probe = "import sys, lsi.display; print(sorted(m for m in sys.modules if m.split('.')[0] in {'numpy', 'pandas'}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    ("x", "text"),
    [(None, "-"), (math.nan, "-"), (math.inf, "inf"), (-math.inf, "-inf"), (2.5, "2.5"), ("<x>", "&lt;x&gt;")],
)
def test_numbers_and_missing_values(x, text):
    assert display._g(x) == text


def test_a_series_renders_itself_in_a_notebook():
    s = lsi.Series(["2023-02-24", "2024-07-02"], [1.0, 2.0], name=HOSTILE)
    markup = s._repr_html_()
    assert markup == display.series_html(s)
    text = well_formed(markup)
    assert HOSTILE in text and "2023-02-24" in text and "2024-07-02" in text
