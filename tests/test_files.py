"""Atomic outputs: a failure (an error, an interrupt, a full disk) leaves the previous file or
folder as it was and no temporary behind; operating-system errors become one lsi line that
names the user's path and the fix."""

from __future__ import annotations

import errno
import os
import signal
import stat
from pathlib import Path

import numpy as np
import pytest

from lsi import files
from lsi.exceptions import InputError, LsiError, OutputError


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones included) and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def no_temporaries(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.startswith(files.TEMP_PREFIX)]


# --- one file -------------------------------------------------------------------------------


def test_text_and_bytes_are_written_whole(tmp_path):
    files.write_text(tmp_path / "a.md", "é\n")
    files.write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "a.md").read_bytes() == "é\n".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md", "b.bin"]


def test_the_temporary_is_a_hidden_sibling_with_the_same_extension(tmp_path):
    target = tmp_path / "sweep.nc"
    with files.atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(".") and tmp.name.endswith("sweep.nc")
        assert tmp.exists() and not target.exists()
        # a writer that adds the extension unless it is there already (numpy) writes the temporary
        with files.atomic_path(tmp_path / "grid.npy") as tmp2:
            np.save(tmp2, np.arange(3))
        tmp.write_bytes(b"CDF")
    assert target.read_bytes() == b"CDF"
    assert np.array_equal(np.load(tmp_path / "grid.npy"), np.arange(3))
    assert no_temporaries(tmp_path)


@pytest.mark.parametrize("error", [RuntimeError("writer failed"), KeyboardInterrupt()])
def test_a_failure_in_the_block_keeps_the_previous_file(tmp_path, error):
    target = tmp_path / "report.json"
    target.write_text("previous")
    with pytest.raises(type(error)), files.atomic_file(target) as fh:
        fh.write("half of the new")
        fh.flush()
        raise error
    assert target.read_text() == "previous"
    assert os.listdir(tmp_path) == ["report.json"]


def test_a_failure_with_no_previous_file_leaves_nothing(tmp_path):
    with pytest.raises(ValueError), files.atomic_file(tmp_path / "new.txt") as fh:
        fh.write("part")
        raise ValueError("stop")
    assert os.listdir(tmp_path) == []


def test_no_space_while_writing_is_one_line_naming_the_target(tmp_path):
    target = tmp_path / "sweep.nc"
    target.write_bytes(b"old")
    with pytest.raises(OutputError) as info, files.atomic_path(target) as tmp:
        tmp.write_bytes(b"part")
        raise OSError(errno.ENOSPC, "No space left on device")
    msg = str(info.value)
    assert msg.startswith(f"cannot write {target}: no space left") and "\n" not in msg
    assert files.TEMP_PREFIX not in msg
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["sweep.nc"]


@pytest.mark.parametrize("where", ["replace", "fsync"])
def test_no_space_at_the_last_step_keeps_the_previous_file(tmp_path, monkeypatch, where):
    target = tmp_path / "fig.png"
    target.write_bytes(b"old")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, where, full)
    with pytest.raises(OutputError, match="no space left"):
        files.write_bytes(target, b"new" * 1000)
    monkeypatch.undo()
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["fig.png"]


def test_a_writer_that_hides_a_full_disk_is_reported_as_one(tmp_path, monkeypatch):
    # the netCDF library says "HDF error" when the disk fills; the free space tells why
    monkeypatch.setattr(files, "_nearly_full", lambda folder: True)
    with pytest.raises(OutputError, match="no space left"), files.atomic_path(tmp_path / "x.nc"):
        raise RuntimeError("NetCDF: HDF error")
    monkeypatch.setattr(files, "_nearly_full", lambda folder: False)
    with pytest.raises(RuntimeError, match="HDF"), files.atomic_path(tmp_path / "x.nc"):
        raise RuntimeError("NetCDF: HDF error")
    assert os.listdir(tmp_path) == []


def test_an_error_about_another_file_is_not_restated(tmp_path):
    with pytest.raises(FileNotFoundError), files.atomic_path(tmp_path / "out.csv"):
        open(tmp_path / "missing-input.csv").close()
    assert os.listdir(tmp_path) == []


def test_the_replaced_file_keeps_its_permissions_and_a_new_one_gets_the_usual(tmp_path):
    old = tmp_path / "kept.txt"
    old.write_text("x")
    old.chmod(0o640)
    files.write_text(old, "y")
    assert stat.S_IMODE(old.stat().st_mode) == 0o640
    umask = os.umask(0)
    os.umask(umask)
    files.write_text(tmp_path / "new.txt", "z")
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o666 & ~umask


def test_a_symbolic_link_keeps_pointing_at_the_new_file(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    files.write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_only_whole_file_modes(tmp_path):
    with pytest.raises(ValueError, match="'w'"), files.atomic_file(tmp_path / "x", "a"):
        pass


# --- where a file cannot go -----------------------------------------------------------------


def one_line(exc: BaseException, path: object) -> str:
    msg = str(exc)
    assert isinstance(exc, LsiError) and isinstance(exc, OSError)
    assert "\n" not in msg and str(path) in msg and "; " in msg, msg
    return msg


def test_a_folder_a_file_in_the_way_a_missing_folder_and_the_kernel(tmp_path):
    (tmp_path / "afile").write_text("x")
    cases = {
        tmp_path: "it is a folder",
        tmp_path / "afile" / "out.nc": "is a file, not a folder",
        tmp_path / "nowhere" / "out.nc": "does not exist",
        Path("/proc/out.nc"): "/proc holds the kernel's state",
        Path("/sys/kernel/out.nc"): "/sys holds the kernel's state",
    }
    for path, says in cases.items():
        with pytest.raises(OutputError) as info, files.atomic_path(path):
            pytest.fail("the block must not run")
        assert says in one_line(info.value, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_no_permission_and_a_read_only_disk_are_found_before_the_work(tmp_path, monkeypatch):
    monkeypatch.setattr(files.os, "access", lambda path, mode: False)
    with pytest.raises(OutputError) as info:
        files.check_output(tmp_path / "out.nc")
    assert "permission denied" in one_line(info.value, tmp_path / "out.nc")
    monkeypatch.undo()

    class ReadOnly:
        f_flag = os.ST_RDONLY

    monkeypatch.setattr(files.os, "statvfs", lambda path: ReadOnly())
    with pytest.raises(OutputError) as info:
        files.check_output(tmp_path / "report", folder=True)
    assert "read-only" in one_line(info.value, tmp_path / "report")


@pytest.mark.parametrize(
    ("exc", "says"),
    [
        (PermissionError(errno.EACCES, "Permission denied"), "permission denied; choose a folder you can write to"),
        (IsADirectoryError(errno.EISDIR, "Is a directory"), "it is a folder; give a file name"),
        (FileExistsError(errno.EEXIST, "File exists"), "already there; remove it or choose another path"),
        (OSError(errno.ENOSPC, "No space left on device"), "no space left on the device; free some space"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "no space left on the device"),
        (OSError(errno.EROFS, "Read-only file system"), "read-only; choose an output path on a writable disk"),
        (OSError(errno.ENAMETOOLONG, "File name too long"), "too long"),
        (OSError(errno.EIO, "Input/output error"), "input/output error; choose another path"),
    ],
)
def test_each_os_error_on_writing_is_one_line_with_the_fix(exc, says):
    err = files.os_error(exc, "results/sweep.nc")
    assert isinstance(err, OutputError) and err.errno == exc.errno
    assert says in one_line(err, "results/sweep.nc")


def test_a_file_in_the_way_is_named(tmp_path):
    (tmp_path / "data").write_text("x")
    err = files.os_error(NotADirectoryError(errno.ENOTDIR, "Not a directory"), tmp_path / "data" / "out.nc")
    assert f"{tmp_path / 'data'} is a file, not a folder" in one_line(err, tmp_path / "data" / "out.nc")


def test_reading_errors_are_input_errors(tmp_path):
    with pytest.raises(InputError) as info, files.os_errors(tmp_path / "none.csv", reading=True):
        open(tmp_path / "none.csv").close()
    assert "no such file; check the path" in one_line(info.value, tmp_path / "none.csv")
    with pytest.raises(InputError) as info, files.os_errors(tmp_path, reading=True):
        open(tmp_path).close()
    assert "it is a folder; give the path of a file" in one_line(info.value, tmp_path)
    err = files.os_error(PermissionError(errno.EACCES, "Permission denied"), "secret.csv", reading=True)
    assert "permission denied" in one_line(err, "secret.csv")


def test_a_path_with_a_line_break_stays_on_one_line():
    err = files.os_error(OSError(errno.ENOSPC, "No space"), "evil\nname.nc")
    assert "\n" not in str(err) and "'evil\\nname.nc'" in str(err)


# --- a set of files -------------------------------------------------------------------------


def write_set(tmp: Path, version: str) -> None:
    (tmp / "report.md").write_text(f"report {version}")
    (tmp / "fit.png").write_bytes(f"png {version}".encode())
    (tmp / "tables").mkdir()
    (tmp / "tables" / "models.csv").write_text(f"csv {version}")


def test_a_new_folder_appears_whole_with_its_parents(tmp_path):
    out = tmp_path / "a" / "b" / "report"
    with files.atomic_folder(out) as tmp:
        write_set(tmp, "1")
        assert not out.exists()
    assert snapshot(out) == {"fit.png": b"png 1", "report.md": b"report 1", "tables/models.csv": b"csv 1"}
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~_umask()
    assert no_temporaries(tmp_path)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def earlier(out: Path) -> dict[str, bytes]:
    """An output folder holding an earlier run and a file of the user's."""
    with files.atomic_folder(out) as tmp:
        write_set(tmp, "1")
        (tmp / "only_in_1.png").write_bytes(b"old figure")
    (out / "my notes.txt").write_text("mine")
    return snapshot(out)


def test_an_existing_folder_gets_the_new_set_and_keeps_files_lsi_did_not_write(tmp_path):
    out = tmp_path / "report"
    before = earlier(out)
    with files.atomic_folder(out) as tmp:
        write_set(tmp, "2")
    after = snapshot(out)
    assert after == {
        **before,
        "fit.png": b"png 2",
        "report.md": b"report 2",
        "tables/models.csv": b"csv 2",
    }
    assert after["my notes.txt"] == b"mine" and after["only_in_1.png"] == b"old figure"
    assert no_temporaries(tmp_path)


@pytest.mark.parametrize("error", [RuntimeError("figure failed"), KeyboardInterrupt()])
def test_a_failure_while_writing_the_set_keeps_the_previous_folder(tmp_path, error):
    out = tmp_path / "report"
    before = earlier(out)
    with pytest.raises(type(error)), files.atomic_folder(out) as tmp:
        (tmp / "fit.png").write_bytes(b"png 2")
        raise error
    assert snapshot(out) == before and no_temporaries(tmp_path)
    with pytest.raises(type(error)), files.atomic_folder(tmp_path / "fresh" / "report"):
        raise error
    assert not (tmp_path / "fresh").exists()


def test_a_failure_in_the_middle_of_moving_puts_the_previous_files_back(tmp_path, monkeypatch):
    out = tmp_path / "report"
    before = earlier(out)
    real = os.replace
    calls = []

    def fails_on_the_third(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    with pytest.raises(OutputError, match="no space left"):
        with files.atomic_folder(out) as tmp:
            write_set(tmp, "2")
            (tmp / "new_only.png").write_bytes(b"new")
            monkeypatch.setattr(files.os, "replace", fails_on_the_third)
    monkeypatch.undo()
    assert len(calls) > 3  # two files had moved, the third failed, and the two were put back
    assert snapshot(out) == before and no_temporaries(tmp_path)


def test_a_folder_in_the_way_of_a_new_file_is_refused_before_anything_moves(tmp_path):
    out = tmp_path / "report"
    before = earlier(out)
    (out / "fit.png.d").mkdir()
    with pytest.raises(OutputError, match="a folder of that name is in the way"), files.atomic_folder(out) as tmp:
        write_set(tmp, "2")
        (tmp / "fit.png.d").write_text("x")
    assert snapshot(out) == before and no_temporaries(tmp_path)


def test_a_file_where_the_folder_should_be_is_refused(tmp_path):
    (tmp_path / "report").write_text("x")
    with pytest.raises(OutputError) as info, files.atomic_folder(tmp_path / "report"):
        pytest.fail("the block must not run")
    assert "a file of that name is there" in one_line(info.value, tmp_path / "report")


def test_an_interrupt_during_the_moves_waits_until_the_set_is_complete(tmp_path, monkeypatch):
    out = tmp_path / "report"
    earlier(out)
    real = os.replace
    sent = []

    def interrupted(src, dst):
        if not sent:
            sent.append(dst)
            os.kill(os.getpid(), signal.SIGINT)
        return real(src, dst)

    with pytest.raises(KeyboardInterrupt):
        with files.atomic_folder(out) as tmp:
            write_set(tmp, "2")
            monkeypatch.setattr(files.os, "replace", interrupted)
    monkeypatch.undo()
    assert sent
    after = snapshot(out)
    assert after["report.md"] == b"report 2" and after["tables/models.csv"] == b"csv 2"
    assert no_temporaries(tmp_path)


# --- netCDF on any install ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sweeps():
    import lsi

    grid = lsi.sweep(until=10, g0=np.linspace(0.1, 1, 3), p=np.array([0.5, 1.0]), multiples=[2.0], progress=False)
    sampled = lsi.sweep(until=10, samples={"g0": np.array([0.2, 0.4, 0.8])}, progress=False)
    return {"grid": grid, "sampled": sampled}


@pytest.mark.parametrize("which", ["grid", "sampled"])
@pytest.mark.parametrize("engine", ["scipy", "netcdf4"])
def test_a_sweep_round_trips_identically_through_netcdf(tmp_path, sweeps, which, engine):
    from lsi.quadrature.output import read_netcdf, write_netcdf

    ds = sweeps[which]
    legends = list(ds.attrs["first_failure_legend"])
    path = write_netcdf(ds, tmp_path / "sweep.nc", engine=engine)
    back = read_netcdf(path)
    assert back.identical(ds)
    assert {k: v.dtype for k, v in back.variables.items()} == {k: v.dtype for k, v in ds.variables.items()}
    assert back.attrs["first_failure_legend"] == legends and ds.attrs["first_failure_legend"] == legends
    assert os.listdir(tmp_path) == ["sweep.nc"]


def test_a_plain_install_writes_netcdf3_with_scipy(tmp_path, sweeps, monkeypatch):
    import importlib.util

    from lsi.quadrature import output

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in ("netCDF4", "h5netcdf") else real(name, *a)
    )
    assert output.netcdf_engine() == "scipy"
    path = output.write_netcdf(sweeps["sampled"], tmp_path / "sweep.nc")
    assert path.read_bytes()[:3] == b"CDF"  # netCDF3, not HDF5
    assert output.read_netcdf(path).identical(sweeps["sampled"])


def test_a_lazy_sweep_is_written_whole(tmp_path):
    import lsi
    from lsi.quadrature.output import read_netcdf, write_netcdf

    pytest.importorskip("dask")
    lazy = lsi.sweep(until=10, g0=np.linspace(0.1, 1, 6), chunks=2, engine="numpy")
    write_netcdf(lazy, tmp_path / "lazy.nc", engine="scipy")
    assert read_netcdf(tmp_path / "lazy.nc").identical(lazy.compute())


def test_an_interrupted_netcdf_write_keeps_the_previous_file(tmp_path, sweeps, monkeypatch):
    import xarray as xr

    from lsi.quadrature.output import write_netcdf

    target = tmp_path / "sweep.nc"
    write_netcdf(sweeps["grid"], target, engine="scipy")
    before = target.read_bytes()

    def half_then_interrupt(self, path, **kwargs):
        Path(path).write_bytes(b"CDF\x01 truncated")
        raise KeyboardInterrupt

    monkeypatch.setattr(xr.Dataset, "to_netcdf", half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_netcdf(sweeps["grid"], target, engine="scipy")
    assert target.read_bytes() == before and os.listdir(tmp_path) == ["sweep.nc"]


def test_netcdf_errors_are_one_line(tmp_path, sweeps):
    from lsi.exceptions import ParameterValueError
    from lsi.quadrature.output import read_netcdf, write_netcdf

    with pytest.raises(OutputError) as info:
        write_netcdf(sweeps["grid"], tmp_path / "missing" / "sweep.nc")
    one_line(info.value, tmp_path / "missing" / "sweep.nc")
    with pytest.raises(InputError) as info2:
        read_netcdf(tmp_path / "none.nc")
    one_line(info2.value, tmp_path / "none.nc")
    with pytest.raises(ParameterValueError, match="choose one of netcdf4, h5netcdf, scipy"):
        write_netcdf(sweeps["grid"], tmp_path / "x.nc", engine="zarr")  # type: ignore[arg-type]
