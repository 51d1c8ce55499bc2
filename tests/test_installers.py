"""The pip backend's unpacked pip: unpacked once, atomically, with bytecode (issue 7)."""

from __future__ import annotations

import json
import os
import textwrap
import zipfile
from pathlib import Path

import pytest

from reprorun.envs.installers import pip as installers


def _wheel(folder: Path, name: str = "demo-1.0-py3-none-any.whl") -> Path:
    path = folder / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("demo/__init__.py", "VALUE = 1\n")
        archive.writestr("demo/__main__.py", "print('demo')\n")
    return path


def test_unpack_wheel_once_into_a_folder_named_after_it(tmp_path):
    wheel = _wheel(tmp_path)
    first = installers.unpack_wheel(str(wheel), tmp_path / "pip")
    assert first == tmp_path / "pip" / wheel.name
    assert (first / "demo" / "__main__.py").read_text() == "print('demo')\n"
    (first / "demo" / "marker").write_text("kept")
    assert installers.unpack_wheel(str(wheel), tmp_path / "pip") == first
    assert (first / "demo" / "marker").exists()  # reused, not unpacked again
    assert sorted(os.listdir(tmp_path / "pip")) == [wheel.name]  # no temporary folder left


def test_unpack_wheel_loser_of_a_race_keeps_the_winners_copy(tmp_path, monkeypatch):
    wheel = _wheel(tmp_path)
    folder = tmp_path / "pip"
    real_rename = os.rename

    def rename_after_another_process(src: str, dst: str) -> None:
        os.makedirs(os.path.join(dst, "demo"))
        Path(dst, "demo", "winner").write_text("")
        real_rename(src, dst)  # fails: dst exists and is not empty

    monkeypatch.setattr(os, "rename", rename_after_another_process)
    dest = installers.unpack_wheel(str(wheel), folder)
    assert (dest / "demo" / "winner").exists()
    assert sorted(os.listdir(folder)) == [wheel.name]


def test_pip_argv_falls_back_to_the_wheel_when_the_cache_is_not_writable(tmp_path, monkeypatch):
    wheel = _wheel(tmp_path, "pip-99.0-py3-none-any.whl")
    monkeypatch.setattr(installers, "pip_wheel", lambda short: str(wheel))
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert installers.pip_argv("py", "3.11", blocked / "pip") == ["py", os.path.join(str(wheel), "pip")]
    assert installers.pip_argv("py", "3.11", tmp_path / "pip") == ["py", str(tmp_path / "pip" / wheel.name / "pip")]


@pytest.mark.slow
def test_pip_build_runs_pip_unpacked_in_the_cache_with_bytecode(run_reprorun, tmp_path, cache_dir):
    path = tmp_path / "s.py"
    path.write_text(textwrap.dedent("""\
        # /// script
        # dependencies = ["alpha"]
        # ///
        import alpha
        print(alpha.__version__)
    """))
    # A user's PYTHONDONTWRITEBYTECODE must not stop pip's own bytecode from being cached.
    result = run_reprorun("--installer", "pip", path, env={"PYTHONDONTWRITEBYTECODE": "1"})
    assert (result.returncode, result.stdout) == (0, "2.0\n"), result.stderr
    (unpacked,) = (cache_dir / "pip").iterdir()
    assert unpacked.name.startswith("pip-") and unpacked.name.endswith(".whl")
    assert list((unpacked / "pip" / "_internal" / "__pycache__").glob("*.pyc"))
    (env,) = (cache_dir / "envs").iterdir()
    report = json.loads((env / "reprorun-install.json").read_text())
    assert [item["metadata"]["name"] for item in report["install"]] == ["alpha"]
