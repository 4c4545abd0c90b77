"""The words of :mod:`lsi.figures`: labels of parameters, outputs, assumptions and models,
and the formats of numbers printed on figures."""

from __future__ import annotations

import math
import re
import textwrap
from typing import TYPE_CHECKING

from ..models import get as get_model

if TYPE_CHECKING:  # pragma: no cover
    from ..fitting import FitResult


#: axis labels of the loop model's parameters (the names of :class:`lsi.models.Loop`)
PARAMETER_LABELS = {
    "g0": "initial growth rate $g_0$ (per year)",
    "p": "automatable share of R&D $p$",
    "a": "research-speed elasticity $a$",
    "lam": r"parallel efficiency $\lambda$",
    "beta": r"complexity brake $\beta$",
    "gamma": r"brake stiffening $\gamma$",
    "ceiling": "resource ceiling $K/C_0$",
    "nu": r"ceiling shape $\nu$",
    "delta": r"efficiency loss $\delta$ (per year)",
}


#: short labels of the loop model's parameters (tick labels of the sensitivity figure)
PARAMETER_SHORT = {
    "g0": "$g_0$ growth rate",
    "p": "$p$ automatable share",
    "a": "$a$ elasticity",
    "lam": r"$\lambda$ parallel efficiency",
    "beta": r"$\beta$ complexity brake",
    "gamma": r"$\gamma$ brake stiffening",
    "ceiling": "$K/C_0$ ceiling",
    "nu": r"$\nu$ ceiling shape",
    "delta": r"$\delta$ efficiency loss",
}


#: what the outputs of :func:`lsi.sensitivity.sobol` and :func:`lsi.sensitivity.tornado` are
OUTPUT_LABELS = {
    "lnC_end": r"capability at the end, $\ln(C/C_0)$",
    "t_closure": "time the loop opens (closure)",
    "t_amplification": "time amplification fails",
    "t_efficiency": "time efficiency fails",
    "t_singularity": "time of the singularity",
    "l_closure": r"$\ln(C/C_0)$ when the loop opens",
    "l_amplification": r"$\ln(C/C_0)$ when amplification fails",
    "l_efficiency": r"$\ln(C/C_0)$ when efficiency fails",
}


ASSUMPTION_LABELS = {
    "closure": "closed loop fails first",
    "amplification": "self-amplification fails first",
    "efficiency": "efficiency fails first",
    "none": "none fails",
}


def units_label(units: str, fallback: str = "value", width: int = 34) -> str:
    """A y label from a series' units: a trailing note in parentheses dropped, wrapped."""
    u = (units or "").strip()
    if "(" in u and u.endswith(")"):  # drop a trailing parenthetical note
        u = u[: u.index("(")].strip()
    return "\n".join(textwrap.wrap(u or fallback, width))


def fmt_weight(w: float) -> str:
    """A weight or probability as printed beside its bar: two decimals, three below 0.01."""
    if w is None or not math.isfinite(w):
        return "n/a"
    if w < 0.001:
        return "<0.001"
    if w < 0.01:
        return f"{w:.3f}"
    return f"{w:.2f}"


def model_title(name: str) -> str:
    """A model's title from the registry; the averaged forecasts by what they are."""
    special = {"averaged": "model average", "bootstrap_mixture": "bootstrap mixture", "stacked": "stacked forecast"}
    if name in special:
        return special[name]
    try:
        return get_model(name).title or name
    except (KeyError, ValueError):
        return name.replace("_", " ")


def model_label(r: FitResult) -> str:
    """``Title (weight)``, flagged n.i. (not identifiable) or n.c. (not converged)."""
    flag = "" if r.converged and r.identifiable else ("; n.c." if not r.converged else "; n.i.")
    return f"{r.model.title or r.name} ({fmt_weight(r.weight)}{flag})"


def param_label(name: str) -> str:
    """The axis label of a loop-model parameter (its name when it has none)."""
    return PARAMETER_LABELS.get(name, name)


def wrap_math(text: str, chars: int) -> str:
    """Wrap ``text`` to lines of about ``chars`` characters as printed (a ``$...$`` formula
    counts as about half its source)."""
    printed = re.sub(r"\$[^$]*\$", lambda m: "x" * max(1, len(m.group(0)) // 2), text)
    return text if len(printed) <= chars else "\n".join(textwrap.wrap(text, chars))


def output_label(output: str) -> str:
    """The label of a sensitivity output (:func:`lsi.sensitivity.sobol`, :func:`lsi.sensitivity.tornado`)."""
    if output.startswith("first_failure:"):
        return f"{output.split(':', 1)[1]} fails first (0/1)"
    return OUTPUT_LABELS.get(output, output)
