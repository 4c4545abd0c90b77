"""Loop-model parameters: names, defaults, ranges, and the checks every entry point runs.

:func:`check_params` is public; :func:`complete`, :func:`problems`, :func:`prepare` and
:func:`as_float_array` are the steps the other modules of :mod:`lsi.quadrature` share: fill
in the defaults, convert to float arrays, broadcast, and mark (or refuse) values outside
their ranges with one message line per bad parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..exceptions import ParameterValueError, UnknownParameterError
from ..loopmath import DEFAULTS, PARAMS

__all__ = ["PARAMS", "DEFAULTS", "check_params", "complete", "problems", "prepare", "as_float_array"]


def _finite(v: np.ndarray) -> np.ndarray:
    return np.isfinite(v)


#: name -> (the cells where a value is bad, why it is bad)
RULES: dict[str, tuple[Callable[[np.ndarray], np.ndarray], str]] = {
    "g0": (
        lambda v: ~((v > 0) & _finite(v)),
        "is not a finite number > 0; g0 is the growth rate of ln C at t0 (per year)",
    ),
    "p": (
        lambda v: ~((v >= 0) & (v <= 1)),
        "is outside [0, 1]; the automatable share of R&D must be a fraction",
    ),
    "a": (
        lambda v: ~((v >= 0) & _finite(v)),
        "is not a finite number >= 0; the elasticity of AI research speed to capability cannot be negative",
    ),
    "lam": (
        lambda v: ~((v > 0) & (v <= 1)),
        "is outside (0, 1]; parallel-research efficiency is a fraction and cannot be 0",
    ),
    "beta": (
        lambda v: ~((v >= 0) & _finite(v)),
        "is not a finite number >= 0; the complexity brake cannot be negative (use 0 for none)",
    ),
    "gamma": (
        lambda v: ~((v >= 0) & _finite(v)),
        "is not a finite number >= 0; the stiffening of the brake cannot be negative",
    ),
    "ceiling": (
        lambda v: ~(v > 1),
        "is not > 1; the resource ceiling K/C0 must exceed the start (use inf for none)",
    ),
    "nu": (
        lambda v: ~((v > 0) & _finite(v)),
        "is not a finite number > 0; the shape of the ceiling must be positive (1 is logistic)",
    ),
    "delta": (
        lambda v: ~((v >= 0) & _finite(v)),
        "is not a finite number >= 0; the efficiency lost per year cannot be negative",
    ),
}


def as_float_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a float array; a :class:`ParameterValueError` naming ``name`` if it is not numeric."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ParameterValueError(f"{name} = {value!r} is not a number or an array of numbers; give floats") from exc
    return arr


def complete(params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Fill defaults, reject unknown or missing names, convert to float arrays."""
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise UnknownParameterError(
            f"unknown loop-model parameter(s) {', '.join(map(repr, unknown))}; the parameters are {', '.join(PARAMS)}"
        )
    full: dict[str, Any] = dict(DEFAULTS)
    full.update(params)
    missing = [k for k in PARAMS if k not in full]
    if missing:
        raise ParameterValueError(
            f"missing loop-model parameter(s) {', '.join(missing)}; give them as keyword "
            f"arguments (e.g. g0=0.7, a=1.0); only {', '.join(DEFAULTS)} have defaults"
        )
    return {k: as_float_array(k, full[k]) for k in PARAMS}


def _describe(name: str, arr: np.ndarray, bad: np.ndarray, reason: str) -> str:
    flat = np.flatnonzero(bad.ravel())
    first = arr.ravel()[flat[0]] if arr.size == bad.size else arr.ravel()[0]
    line = f"{name} = {float(first)!r} {reason}"
    if bad.size > 1:
        where = tuple(int(i) for i in np.unravel_index(flat[0], bad.shape))
        line += f" ({flat.size} of {bad.size} values are bad; the first at index {where})"
    return line


def problems(full: Mapping[str, np.ndarray]) -> tuple[np.ndarray, list[str]]:
    """Cell-wise invalid mask (broadcast shape) and one message line per bad parameter."""
    shape = np.broadcast_shapes(*(v.shape for v in full.values()))
    bad_all = np.zeros(shape, dtype=bool)
    lines = []
    for name in PARAMS:
        if name not in full:
            continue
        rule, reason = RULES[name]
        v = full[name]
        with np.errstate(invalid="ignore"):
            bad = np.asarray(rule(v))
        if bad.any():
            lines.append(_describe(name, np.broadcast_to(v, bad.shape), bad, reason))
            bad_all |= bad
    return bad_all, lines


def check_params(**params: Any) -> None:
    """Validate loop-model parameters (scalars or arrays that broadcast together).

    Parameters
    ----------
    **params
        Any of :data:`PARAMS`; names not given take :data:`DEFAULTS` (``g0`` and ``a`` are
        required).  The allowed ranges are ``g0 > 0``, ``0 <= p <= 1``, ``a >= 0``,
        ``0 < lam <= 1``, ``beta >= 0``, ``gamma >= 0``, ``ceiling > 1`` (``inf`` allowed),
        ``nu > 0``, ``delta >= 0``; NaN is never allowed and only ``ceiling`` may be infinite.

    Raises
    ------
    UnknownParameterError
        A name is not one of :data:`PARAMS`.
    ParameterValueError
        A parameter is missing, is not numeric, does not broadcast, or lies outside its range.
        The message has one line per bad parameter, naming the first bad value and how many
        values are bad.

    Examples
    --------
    >>> check_params(g0=0.7, a=1.0, p=0.9)
    >>> check_params(g0=0.7, a=1.0, p=1.3)
    Traceback (most recent call last):
    ...
    lsi.exceptions.ParameterValueError: p = 1.3 is outside [0, 1]; the automatable share ...
    """
    full = complete(params)
    try:
        _, lines = problems(full)
    except ValueError as exc:  # shapes do not broadcast
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in full.items())
        raise ParameterValueError(
            f"parameter arrays do not broadcast together: {shapes}; give arrays of compatible shapes"
        ) from exc
    if lines:
        raise ParameterValueError("\n".join(lines))


def prepare(
    params: Mapping[str, Any], invalid: str, extra: Mapping[str, Any] | None = None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Complete, broadcast and validate; return (arrays of the broadcast shape, bad mask).

    ``invalid`` is ``"raise"`` (a :class:`ParameterValueError` for any bad value) or ``"nan"``
    (bad cells are only marked); ``extra`` holds further arrays to broadcast with the
    parameters (levels, times), returned under their own names.
    """
    if invalid not in ("raise", "nan"):
        raise ParameterValueError(f"invalid = {invalid!r} is not one of 'raise', 'nan'")
    full = complete(params)
    extra_arr = {k: as_float_array(k, v) for k, v in (extra or {}).items()}
    try:
        shape = np.broadcast_shapes(*(v.shape for v in (*full.values(), *extra_arr.values())))
    except ValueError as exc:
        shapes = ", ".join(f"{k}{tuple(v.shape)}" for k, v in {**full, **extra_arr}.items())
        raise ParameterValueError(
            f"arrays do not broadcast together: {shapes}; give arrays of compatible shapes"
        ) from exc
    bad, lines = problems(full)
    if lines and invalid == "raise":
        raise ParameterValueError("\n".join(lines))
    out = {k: np.broadcast_to(v, shape) for k, v in {**full, **extra_arr}.items()}
    return out, np.broadcast_to(bad, shape)
