"""Errors and warnings raised by lsi.

Every error inherits from :class:`LsiError` *and* from the builtin it refines
(``ValueError``, ``KeyError``, ...), so callers can catch either.  Every message
is one line that names the bad value, the valid choices and the fix.
"""

from __future__ import annotations

__all__ = [
    "check_seed",
    "LsiError",
    "SeriesError",
    "ObservationError",
    "UnknownModelError",
    "UnknownParameterError",
    "ParameterValueError",
    "OptionalDependencyError",
    "InputError",
    "OutputError",
    "UsageError",
    "LsiWarning",
    "SeriesWarning",
    "BoundWarning",
    "ConvergenceWarning",
    "IdentifiabilityWarning",
]


class LsiError(Exception):
    """Base class of every error lsi raises on purpose."""


class SeriesError(LsiError, ValueError):
    """A capability series is malformed (empty, too short, NaN, wrong shape)."""


class ObservationError(LsiError, ValueError):
    """The data do not fit the chosen noise model (e.g. non-positive values with log noise)."""


class UnknownModelError(LsiError, KeyError):
    """A model name is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class UnknownParameterError(LsiError, KeyError):
    """A parameter name is not one of the model's parameters."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ParameterValueError(LsiError, ValueError):
    """A parameter value or start lies outside its allowed range."""


class OptionalDependencyError(LsiError, ImportError):
    """An optional dependency is needed for this feature."""


class _FileError(LsiError, OSError):
    """An operating-system error on a file, restated as one line naming the path and the fix.

    It keeps the original ``errno`` and ``filename`` (the user's path, never a temporary one);
    its text is the one line alone.
    """

    def __init__(self, message: str, *, errno: int | None = None, filename: str | None = None):
        super().__init__(message)
        self.errno = errno
        self.filename = filename

    def __str__(self) -> str:  # OSError would prefix "[Errno n]" and append the file name
        return str(self.args[0]) if self.args else ""


class InputError(_FileError):
    """A file or folder given as input cannot be read (missing, a folder, no permission)."""


class OutputError(_FileError):
    """An output cannot be written (no permission, no space, read-only, a file in the way)."""


class UsageError(LsiError, ValueError):
    """A command-line option is malformed or out of range (the ``lsi`` command exits with 2).

    Its text is one line that names the option and the fix, e.g. ``--seed -1: a seed is a
    whole number >= 0 (e.g. --seed 0)``.
    """


class LsiWarning(UserWarning):
    """Base class of every warning lsi issues (errors in lsi's own test suite)."""


class SeriesWarning(LsiWarning):
    """The series was usable but something about it was changed or is suspicious."""


class BoundWarning(LsiWarning):
    """A bounded series nears its bound; saturation is not evidence of a sigmoid."""


class ConvergenceWarning(LsiWarning):
    """A fit did not converge; the best point found is reported."""


class IdentifiabilityWarning(LsiWarning):
    """Parameters are not identifiable from the data (huge correlation, bound hit)."""


def require(module: str, feature: str, extra: str):
    """Import an optional dependency or raise a one-line :class:`OptionalDependencyError`."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise OptionalDependencyError(
            f"{feature} needs the optional package {module!r}; install it with `pip install 'lsi[{extra}]'`"
        ) from exc


def check_seed(seed: object, name: str = "seed") -> None:
    """Refuse, in one line, a seed that is neither None nor a whole number >= 0 (the one check
    every function with a ``seed=`` makes, before any work)."""
    import numbers

    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or int(seed) < 0:
        raise ParameterValueError(f"{name} = {seed!r}; give a whole number >= 0 (or None for a fresh one)")
