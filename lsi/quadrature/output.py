"""The result of :func:`lsi.quadrature.solve`: its keys, legends and empty form.

Every engine fills the same dictionary: the float results of :data:`RESULT_FLOAT_KEYS` (one
value per cell), ``t_reach`` (a row of times per cell, one per multiple of C0), and the codes
``first_failure`` (into :data:`FAILURE_CODES`), ``tied`` and ``status`` (into
:data:`STATUS_CODES`).

:func:`write_netcdf` writes the datasets built from it (sweeps) to netCDF atomically, with
whichever writer is installed (scipy's netCDF3 on a plain install), and :func:`read_netcdf`
reads them back identical.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..loopmath import FAILURES

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "FAILURE_CODES",
    "STATUS_CODES",
    "TIE_TOLERANCE",
    "RESULT_FLOAT_KEYS",
    "empty_result",
    "netcdf_engine",
    "netcdf_ready",
    "write_netcdf",
    "read_netcdf",
]

#: Legend of ``solve(...)["first_failure"]`` (``-1`` marks a cell whose status is not ok).
FAILURE_CODES: tuple[str, ...] = FAILURES

#: Legend of ``solve(...)["status"]``.
STATUS_CODES: tuple[str, ...] = ("ok", "invalid_parameters", "numerical_failure")

#: Two crossings closer than this (years) to the first one are reported as tied.
TIE_TOLERANCE: float = 1e-9

#: The float results, one value per cell, in the order the compiled engine stores them.
RESULT_FLOAT_KEYS: tuple[str, ...] = (
    "lnC_end",
    "t_closure",
    "l_closure",
    "t_amplification",
    "l_amplification",
    "t_efficiency",
    "l_efficiency",
    "t_singularity",
)


def empty_result(n: int, nm: int) -> dict[str, np.ndarray]:
    """The result for ``n`` cells and ``nm`` multiples before anything is solved: NaN
    everywhere, ``first_failure`` -1, ``tied`` False, ``status`` 0."""
    res = {k: np.full(n, np.nan) for k in RESULT_FLOAT_KEYS}
    res["t_reach"] = np.full((n, nm), np.nan)
    res["first_failure"] = np.full(n, -1, dtype=np.int8)
    res["tied"] = np.zeros(n, dtype=bool)
    res["status"] = np.zeros(n, dtype=np.int8)
    return res


# --- netCDF ---------------------------------------------------------------------------------

#: Attribute naming the attributes stored as JSON text (netCDF3 has no list of strings).
JSON_ATTRS = "lsi_json_attrs"

#: Attribute keeping an integer variable's dtype where netCDF3 has none (int64, unsigned).
DTYPE_ATTR = "lsi_dtype"

_INT32 = (-(2**31), 2**31 - 1)

NetcdfEngine = Literal["netcdf4", "h5netcdf", "scipy"]
_ENGINES: tuple[NetcdfEngine, ...] = ("netcdf4", "h5netcdf", "scipy")


def netcdf_engine() -> NetcdfEngine:
    """The netCDF writer to use: ``netcdf4`` (the ``lsi[netcdf]`` extra) if installed, else
    ``h5netcdf`` if installed, else ``scipy`` (netCDF3, always there)."""
    import importlib.util

    if importlib.util.find_spec("netCDF4") is not None:
        return "netcdf4"
    if importlib.util.find_spec("h5netcdf") is not None:
        return "h5netcdf"
    return "scipy"


def _native(value: Any) -> bool:
    """Whether netCDF3 stores the attribute value as it is and gives it back equal."""
    if isinstance(value, str):
        return True
    if isinstance(value, bool | np.bool_ | list | tuple):  # bool would come back as int8, a list as an array
        return False
    if isinstance(value, int | np.integer):
        return _INT32[0] <= int(value) <= _INT32[1]
    if isinstance(value, float | np.floating):
        return True
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.size > 0:
        if value.dtype.kind == "f" or value.dtype == np.int8:
            return True
        if value.dtype.kind in "iu":
            return bool(_INT32[0] <= value.min() and value.max() <= _INT32[1])
    return False


def _plain(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray | np.generic) else value


def _encode_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    coded = []
    for k, v in attrs.items():
        if _native(v):
            out[k] = v
        else:
            out[k] = json.dumps(_plain(v))
            coded.append(k)
    if coded:
        out[JSON_ATTRS] = json.dumps(coded)
    return out


def _decode_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(attrs)
    for k in json.loads(out.pop(JSON_ATTRS, "[]")):
        out[k] = json.loads(out[k])
    return out


def netcdf_ready(ds: xr.Dataset) -> xr.Dataset:
    """A copy of ``ds`` that every netCDF writer stores and :func:`read_netcdf` gives back
    identical: attributes netCDF3 cannot hold (lists of strings such as a sweep's legends,
    booleans, 64-bit integers, ``None``) become JSON text listed in ``lsi_json_attrs``, and
    integer variables of a type netCDF3 lacks keep their dtype in ``lsi_dtype``.

    The same is done for netCDF4, whose writer holds lists of strings but gives a list of one
    back as a bare string: the file is then the same whichever writer is installed."""
    out = ds.copy(deep=False)
    out.attrs = _encode_attrs(ds.attrs)
    for name, var in out.variables.items():
        attrs = _encode_attrs(ds.variables[name].attrs)
        if var.dtype.kind in "iu" and var.dtype not in (np.int8, np.int16, np.int32):
            attrs[DTYPE_ATTR] = var.dtype.str
        var.attrs = attrs
    return out


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike[str], *, engine: NetcdfEngine | None = None) -> Path:
    """Write a dataset (a sweep, a forecast) to a netCDF file, atomically, with the writer at hand.

    The file is written to a temporary sibling and moved into place when complete
    (:func:`lsi.files.atomic_path`), so an interrupt or a full disk leaves the previous file
    or none, never a truncated one; those failures are one-line
    :class:`~lsi.exceptions.OutputError`.  Without ``netCDF4`` or ``h5netcdf`` (a plain
    ``pip install lsi``) scipy writes netCDF3; whatever the writer, what netCDF cannot hold
    as it is (a list of strings) is stored so that :func:`read_netcdf` gives the dataset back
    identical (see :func:`netcdf_ready`).

    Parameters
    ----------
    ds : xarray.Dataset
        Eager or dask-backed (computed while writing).
    path : str or path-like
        The file; its folder must exist.
    engine : {"netcdf4", "h5netcdf", "scipy"}, optional
        The writer (default: :func:`netcdf_engine`).

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib, lsi
    >>> from lsi.quadrature.output import write_netcdf, read_netcdf
    >>> ds = lsi.sweep(until=10, g0=np.linspace(0.1, 1, 3), progress=False)
    >>> p = write_netcdf(ds, pathlib.Path(tempfile.mkdtemp()) / "sweep.nc", engine="scipy")
    >>> read_netcdf(p).identical(ds)
    True
    """
    from ..exceptions import ParameterValueError
    from ..files import atomic_path

    if engine is None:
        engine = netcdf_engine()
    elif engine not in _ENGINES:
        raise ParameterValueError(
            f"engine = {engine!r}; choose one of {', '.join(_ENGINES)} (or None: the one installed)"
        )
    out = netcdf_ready(ds)
    with atomic_path(path) as tmp:
        out.to_netcdf(tmp, engine=engine)
    return Path(path)


def read_netcdf(path: str | os.PathLike[str]) -> xr.Dataset:
    """Load a netCDF file written by :func:`write_netcdf` (or any netCDF file) into memory,
    undoing :func:`netcdf_ready`; an unreadable path is a one-line :class:`~lsi.exceptions.InputError`."""
    import xarray as xr

    from ..files import os_errors

    with os_errors(path, reading=True):
        ds = xr.load_dataset(path)
    ds.attrs = _decode_attrs(ds.attrs)
    for name in list(ds.variables):
        attrs = _decode_attrs(ds.variables[name].attrs)
        dtype = attrs.pop(DTYPE_ATTR, None)
        ds.variables[name].attrs = attrs
        if dtype is not None:
            cast = ds[name].astype(np.dtype(dtype))
            ds = ds.assign_coords({name: cast}) if name in ds.coords else ds.assign({name: cast})
    return ds
