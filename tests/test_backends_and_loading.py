"""Choosing an installer backend (envs/installers/__init__.backend_for), and loading a script as
every command does (script/loading.py): read, parse, tell each notice once on stderr."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from reprorun.envs.installers import backend_for
from reprorun.envs.installers.pip import PipBackend
from reprorun.envs.installers.uv import UvBackend, find_uv
from reprorun.errors import BuildError, MetadataError, UsageError
from reprorun.script import loading

# --- backend_for ---------------------------------------------------------------------------------------


def test_pip_is_pip_with_its_folders(tmp_path: Path) -> None:
    backend = backend_for("pip", tmp_path / "pip", tmp_path / "store")
    assert isinstance(backend, PipBackend)
    assert backend.name == "pip"
    assert (backend.unpacked, backend.store) == (tmp_path / "pip", tmp_path / "store")


def test_uv_is_the_test_extras_uv() -> None:
    # The test extra installs uv: `--installer uv` and `auto` must find it.
    found = find_uv()
    assert found is not None and Path(found).is_file()
    backend = backend_for("uv")
    assert isinstance(backend, UvBackend)
    assert backend.name == "uv"
    assert isinstance(backend_for("auto"), UvBackend)


def test_without_uv_auto_is_pip_and_uv_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No uv anywhere: the uv package's locator is hidden and PATH holds no uv.
    import sys

    monkeypatch.setitem(sys.modules, "uv", None)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_uv() is None
    assert isinstance(backend_for("auto"), PipBackend)
    with pytest.raises(BuildError, match="--installer uv: no 'uv' executable found") as info:
        backend_for("uv")
    assert info.value.hint is not None and "reprorun[uv]" in info.value.hint
    assert info.value.exit_code == 1


def test_uv_on_path_is_found_without_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import sys

    real = find_uv()
    assert real is not None
    (tmp_path / "uv").symlink_to(real)
    monkeypatch.setitem(sys.modules, "uv", None)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_uv() == shutil.which("uv") == str(tmp_path / "uv")


# --- loading ----------------------------------------------------------------------------------------


def test_load_reads_and_parses(tmp_path: Path) -> None:
    path = tmp_path / "s.py"
    path.write_text('# /// script\n# dependencies = ["alpha>=1"]\n# ///\nprint(1)\n', encoding="utf-8")
    script, meta = loading.load(str(path))
    assert script.text.endswith("print(1)\n")
    assert meta.dependencies == ("alpha>=1",)
    assert meta.source == "pep723"


def test_load_tells_each_notice_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "s.py"
    path.write_text("# /// script\n# dependencies = []\n", encoding="utf-8")  # unclosed: a notice
    with caplog.at_level(logging.WARNING, logger="reprorun"):
        _, meta = loading.load(str(path))
    assert meta.notices
    messages = [r.getMessage() for r in caplog.records]
    expected = []
    for notice in meta.notices:
        expected.append(f"{path}:{notice.line}: {notice.message}")
        if notice.hint:
            expected.append(f"hint: {notice.hint}")
    assert messages == expected


def test_tell_returns_the_metadata_unchanged(caplog: pytest.LogCaptureFixture) -> None:
    from reprorun.script import metadata

    meta = metadata.parse("print(1)\n", "s.py")
    with caplog.at_level(logging.WARNING, logger="reprorun"):
        assert loading.tell(meta, "s.py") is meta
    assert caplog.records == []


def test_load_an_invalid_block_raises_the_compiler_style_error(tmp_path: Path) -> None:
    path = tmp_path / "s.py"
    path.write_text("# /// script\n# dependencies = 3\n# ///\n", encoding="utf-8")
    with pytest.raises(MetadataError) as info:
        loading.load(str(path))
    assert info.value.message.startswith(f"{path}:2: ")


def test_load_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        loading.load(str(tmp_path / "missing.py"))


def test_load_a_notebook_reads_its_first_code_cell(tmp_path: Path) -> None:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["# /// script\n", "# dependencies = [\"alpha\"]\n", "# ///\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["# /// script\n", "# dependencies = [\"beta\"]\n", "# ///\n"]},
    ]  # fmt: skip
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), "utf-8")
    _, meta = loading.load(str(path))
    assert meta.dependencies == ("alpha",)
