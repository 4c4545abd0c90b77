"""Sobol indices are shares of variance: one outside [0, 1] is named, never printed as a share."""

from __future__ import annotations

import math

import pandas as pd

from lsi.sensitivity import range_note
from lsi.summary import sobol_text


def test_an_index_in_range_has_no_note():
    assert range_note("total order", 0.4, 0.3, 0.5, 1024) == ""
    assert range_note("total order", 0.0, -0.1, 0.1, 1024) == ""
    assert range_note("total order", 1.0, 0.9, 1.1, 1024) == ""


def test_an_index_outside_within_its_error_is_read_at_the_nearest_end():
    note = range_note("total order", 1.04, 0.95, 1.12, 1024)
    assert "within its sampling error" in note and "read it as 1" in note
    note = range_note("first order", -0.02, -0.08, 0.03, 1024)
    assert "read it as 0" in note


def test_an_index_outside_beyond_its_interval_is_undefined():
    note = range_note("total order", 1.7, 1.3, 2.2, 256)
    assert "beyond its interval" in note and "undefined at n = 256" in note
    assert "undefined" in range_note("first order", math.nan, math.nan, math.nan, 256)


def test_the_text_table_names_every_index_that_is_not_a_share():
    df = pd.DataFrame(
        [
            {"output": "lnC_end", "parameter": "p", "first_order": 0.3, "total_order": 0.4, "note": ""},
            {
                "output": "lnC_end",
                "parameter": "g0",
                "first_order": 0.5,
                "total_order": 1.7,
                "note": range_note("total order", 1.7, 1.3, 2.2, 256),
            },
        ]
    )
    text = sobol_text(df)
    assert "Not shares of variance" in text and "lnC_end, g0: total order 1.700" in text
    assert "lnC_end, p:" not in text
