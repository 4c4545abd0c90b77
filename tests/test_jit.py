"""The compiled engine (lsi.quadrature.numba_engine) against the numpy engine and the ODE reference.

The numpy engine is the reference implementation of the fast path; the compiled one runs the
same panels cell by cell, so the two must agree to rounding on every cell, including invalid
cells, numerical failures, ties and cells that need thousands of panels.  Both are checked
against ``solve_reference`` (solve_ivp) in test_quadrature.py.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

import lsi.quadrature as q
from lsi.exceptions import ParameterValueError

from .test_quadrature import MULTIPLES, T0, draw_cells

pytest.importorskip("numba")

from lsi.quadrature import driver, numba_engine  # noqa: E402
from lsi.quadrature.output import RESULT_FLOAT_KEYS  # noqa: E402


def hard_cells():
    """Cells that exercise every branch: closed forms, starts below threshold, ties, ceiling
    tails, quasi-singular valleys, overflow, friction limits and invalid values."""
    rows = [
        dict(g0=0.7, p=1.0, a=1.0, beta=0.3),  # closed form, singularity
        dict(g0=0.7, p=0.0, a=1.0, beta=0.3, gamma=0.0),  # S = 1: closed form, no singularity
        dict(g0=0.7, p=0.6, a=0.0, beta=0.3),  # S = 1 again
        dict(g0=0.5, p=1.0, a=1.0, beta=1.0, ceiling=1e6, nu=1.0),  # logistic
        dict(g0=0.5, p=1.0, a=1.0, beta=1.0, delta=0.5),  # Gompertz
        dict(g0=1.5, p=1.0, a=2.0, beta=0.2, ceiling=1e3, nu=3.0),  # fast loop into a ceiling tail
        dict(g0=0.9, p=1.0, a=1.0, beta=0.5, gamma=1e-5),  # quasi-singular: thousands of panels
        dict(g0=1.0, p=1.0, a=1.0, beta=1e-310, gamma=0.5, horizon=1.5),  # overflow: a numerical failure
        dict(g0=0.5, p=0.3, a=1.0, beta=0.1),  # starts below kappa_min: closure at t0
        dict(g0=0.8, p=1.0, a=1.0, beta=0.5, delta=0.4),  # singularity against friction
        dict(g0=-1.0, p=0.5, a=1.0),  # invalid: g0 <= 0
        dict(g0=0.5, p=1.5, a=1.0),  # invalid: p > 1
        dict(g0=0.5, p=0.9, a=1.0, ceiling=1.0),  # invalid: ceiling <= 1
    ]
    cols = {k: np.array([r.get(k, q.DEFAULTS.get(k, np.nan)) for r in rows], dtype=float) for k in q.PARAMS}
    return cols, T0 + np.array([r.get("horizon", 12.0) for r in rows])


def compare(a: dict, b: dict) -> None:
    for key in ("status", "first_failure", "tied"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    for key in (*RESULT_FLOAT_KEYS, "t_reach"):
        x, y = np.asarray(a[key], float), np.asarray(b[key], float)
        np.testing.assert_array_equal(np.isnan(x), np.isnan(y), err_msg=f"{key}: NaN where the other is not")
        np.testing.assert_array_equal(np.isinf(x), np.isinf(y), err_msg=f"{key}: inf where the other is not")
        ok = np.isfinite(x)
        np.testing.assert_allclose(y[ok], x[ok], rtol=1e-9, atol=1e-9, err_msg=key)


def test_compiled_engine_matches_numpy_on_random_and_hard_cells():
    params, until, th = draw_cells(np.random.default_rng(7), 6000)
    hard, hard_until = hard_cells()
    nh = hard_until.size
    params = {k: np.concatenate([params[k], hard[k]]) for k in q.PARAMS}
    until = np.concatenate([until, hard_until])
    th = {k: np.concatenate([v, np.full(nh, d)]) for (k, v), d in zip(th.items(), (0.5, 0.0, 0.5), strict=True)}
    kw = dict(multiples=MULTIPLES, **params, **th)
    ref = q.solve(T0, until, engine="numpy", **kw)
    fast = q.solve(T0, until, engine="numba", **kw)
    compare(ref, fast)
    # the hard cells did what they are there for
    st = fast["status"][-nh:]
    assert st.tolist() == [0] * 7 + [2] + [0, 0] + [1, 1, 1]
    assert math.isfinite(fast["t_singularity"][-nh])
    assert fast["first_failure"][-nh + 8] == 0 and fast["t_closure"][-nh + 8] == T0
    assert (fast["status"][:-nh] == 0).mean() > 0.99


def test_threads_do_not_change_results(monkeypatch):
    params, until, th = draw_cells(np.random.default_rng(8), 5000)
    kw = dict(multiples=MULTIPLES, **params, **th)
    monkeypatch.setattr(numba_engine, "threads", lambda: 1)
    one = q.solve(T0, until, engine="numba", **kw)
    monkeypatch.setattr(numba_engine, "threads", lambda: 3)
    three = q.solve(T0, until, engine="numba", chunk=1000, **kw)
    for key, v in one.items():
        np.testing.assert_array_equal(v, three[key], err_msg=key)


def test_auto_engine_and_errors(monkeypatch):
    assert q.resolve_engine("auto", q.JIT_MIN_CELLS - 1) == "numpy"
    assert q.resolve_engine("auto", q.JIT_MIN_CELLS) == "numba"
    assert q.resolve_engine("numpy", 10**9) == "numpy"
    with pytest.raises(ParameterValueError, match="engine = 'fortran' is not one of"):
        q.solve(T0, T0 + 1, g0=1.0, a=1.0, engine="fortran")
    # as if numba were not installed: auto falls back, an explicit request says what to do
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.delitem(sys.modules, "lsi.quadrature.numba_engine")
    monkeypatch.delattr(q, "numba_engine")
    monkeypatch.setattr(driver, "_NUMBA_UNAVAILABLE", [])
    assert q.resolve_engine("auto", 10**6) == "numpy"
    with pytest.raises(ParameterValueError, match=r"needs numba.*pip install 'lsi\[fast\]'; or use engine='numpy'"):
        q.solve(T0, T0 + 1, g0=1.0, a=1.0, engine="numba")


def test_sweep_records_its_engine():
    import lsi

    kw = dict(until=20.0, g0=0.5, a=1.0, p=np.linspace(0.5, 1, 50), beta=np.linspace(0, 1, 50))
    fast = lsi.sweep("loop", engine="numba", **kw)
    ref = lsi.sweep("loop", engine="numpy", **kw)
    assert fast.attrs["engine"] == "numba" and ref.attrs["engine"] == "numpy"
    assert lsi.sweep("loop", **kw).attrs["engine"] == "numba"  # 2500 cells: auto compiles
    np.testing.assert_array_equal(fast["first_failure"], ref["first_failure"])
    np.testing.assert_allclose(fast["lnC_end"], ref["lnC_end"], rtol=1e-10)
