"""Renderings (lsi.summary): Markdown escaping, and the report document against hostile names."""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

import lsi
from lsi.summary import REPORT_CSP, md_escape, md_table, report_html

from .conftest import simulate

HOSTILE = "# x <img src=http://x onerror=alert(1)>"


class _Tags(HTMLParser):
    """Every start tag of a page with its attributes, and the text of <title>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def _tags(page: str) -> _Tags:
    p = _Tags()
    p.feed(page)
    return p


def _assert_safe(page: str) -> _Tags:
    p = _tags(page)
    for tag, attrs in p.tags:
        assert tag not in {"script", "iframe", "object", "embed", "base", "link"}, tag
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if tag == "img":
            assert not re.match(r"^[a-z][a-z0-9+.-]*:|^//", attrs["src"] or ""), attrs
    return p


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metr_horizons", "metr_horizons"),
        ("minutes", "minutes"),
        ("accuracy (fraction)", "accuracy (fraction)"),
        (HOSTILE, "\\# x \\<img src=http://x onerror=alert(1)\\>"),
        ("_a_ *b* `c` [d](e) a|b", "\\_a\\_ \\*b\\* \\`c\\` \\[d\\](e) a\\|b"),
        ("~~s~~ $x$ &amp;", "\\~\\~s\\~\\~ \\$x\\$ \\&amp;"),
        ("two\nlines\r\n- item", "two lines - item"),
        ("back\\slash", "back\\\\slash"),
    ],
)
def test_md_escape(text, expected):
    assert md_escape(text) == expected


@pytest.mark.parametrize("text", [HOSTILE, "a_b_ **c** <b>&lt;</b> [x](http://y) ![i](http://z)\n# h", "|x|\n|-|"])
def test_escaped_text_renders_as_itself(text):
    """What CommonMark (raw HTML on, as on most hosts) shows is the text itself, on one line."""
    html = MarkdownIt("commonmark").render(md_escape(text)).strip()
    flat = " ".join(text.split())
    assert html.startswith("<p>") and html.count("<") == 2  # one paragraph, no other element
    assert html[3:-4] == flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def test_report_html_escapes_the_title_and_raw_html():
    page = report_html(
        "# t\n\n<img src=http://x onerror=alert(1)>\n\n![a](http://x/y.png)\n\n![f](fit.png)", title=HOSTILE
    )
    p = _assert_safe(page)
    assert p.title == f"lsi report: {HOSTILE}"[len("lsi report: ") :] or p.title == HOSTILE
    imgs = [a for t, a in p.tags if t == "img"]
    assert imgs == [{"src": "fit.png", "alt": "f"}]  # the remote image is dropped to its text
    assert "&lt;img src=http://x onerror=alert(1)&gt;" in page


def test_report_carries_a_restrictive_csp():
    page = report_html("# t")
    metas = [
        a
        for t, a in _tags(page).tags
        if t == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy"
    ]
    assert len(metas) == 1 and metas[0]["content"] == REPORT_CSP
    rules = dict(d.strip().split(" ", 1) for d in REPORT_CSP.split(";"))
    assert rules["default-src"] == "'none'"
    assert "script-src" not in rules  # no script at all: default-src 'none' holds
    assert not re.search(r"https?:|\*|'unsafe", REPORT_CSP)
    assert rules["img-src"] == "'self' file:" and rules["style-src"].startswith("'sha256-")


def test_report_document_escapes_a_hostile_series_name(tmp_path):
    from lsi.report import write_report

    s = simulate("exponential", {"C0": 1.0, "g": 0.7}, n=15, seed=3)
    s = lsi.Series(s.t, s.y, name=HOSTILE, units="<b>minutes</b> | x")
    fits = lsi.fit(s, ["exponential", "linear"], warn=False)
    rep = lsi.answer(fits, n_boot=0, n_sim=10)
    write_report(rep, fits, str(tmp_path))
    page = (tmp_path / "report.html").read_text()
    md = (tmp_path / "report.md").read_text()

    p = _assert_safe(page)
    assert p.title == f"lsi report: {HOSTILE}"
    assert [t for t, _ in p.tags].count("h1") == 1
    assert {a["src"] for t, a in p.tags if t == "img"} <= {f.name for f in tmp_path.glob("*.png")}
    assert "&lt;img src=http://x onerror=alert(1)&gt;" in page and "&lt;b&gt;minutes&lt;/b&gt;" in page
    assert REPORT_CSP in page

    # report.md: no raw HTML and no structure from the name, in any CommonMark renderer
    assert "<img" not in md.replace("\\<img", "") and "<b>" not in md.replace("\\<b\\>", "")
    rendered = _assert_safe(MarkdownIt("commonmark").enable("table").render(md))
    assert [t for t, _ in rendered.tags].count("h1") == 1
    assert md.splitlines()[0] == f"# Which assumption of recursive self-improvement fails first? ({md_escape(HOSTILE)})"
    # plain text is printed as given
    assert rep.summary().splitlines()[0].endswith(f"({HOSTILE})")


def test_summary_imports_nothing_above_it():
    """lsi.summary renders what it is handed: at run time it imports only the bottom layer."""
    tree = ast.parse(Path(lsi.__file__).with_name("summary.py").read_text())
    allowed = {"exceptions", "_version"}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []  # annotations only
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            assert (node.module or "").split(".")[0] in allowed, ast.unparse(node)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lsi"):
            raise AssertionError(ast.unparse(node))
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("lsi") for a in node.names), ast.unparse(node)


def test_forecast_text_fits_a_hundred_columns_and_says_which_band(capsys):
    import warnings as _w

    from lsi.cli import main

    with _w.catch_warnings():
        _w.simplefilter("ignore")
        assert main(["forecast", "metr_horizons", "--until", "2029", "--n", "50"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "band: calibrated on the series' own past forecasts" in out
    assert "unbounded above from" in out  # the hyperbolic's band passes its singularity before 2029


def test_dates_beyond_the_year_ten_thousand_are_words_not_numbers():
    from lsi.intervals import Interval
    from lsi.summary import format_date_interval

    assert format_date_interval(Interval(7.3e12, 2030.0, None, 0.95)) == "beyond 10000 [2030.00, unbounded]"
    assert format_date_interval(Interval(2027.31, 2026.5, 2029.0, 0.95)) == "2027.31 [2026.50, 2029.00]"
    assert format_date_interval(Interval(None, None, None, 0.95)) == "undefined"


def test_markdown_tables_format_each_column_one_way():
    import pandas as pd

    df = pd.DataFrame(
        {"aicc": [122.0, 125.7, 130.25], "weight": [0.713, 2.139e-05, 0.0], "days": [87.2, 223.4, 1820.9]},
        index=pd.Index(["a", "b", "c"], name="model"),
    )
    rows = [r.split(" | ") for r in md_table(df).splitlines()[2:]]
    aicc = [r[1] for r in rows]
    weight = [r[2] for r in rows]
    assert aicc == ["122.0", "125.7", "130.2"]  # the same decimals in every row
    assert weight == ["0.7130", "<0.0001", "0.0000"]  # never 2.139e-05 beside 0.000
    assert len({len(x.split(".")[-1]) for x in aicc}) == 1
