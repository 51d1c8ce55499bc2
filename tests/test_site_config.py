"""Sites configured through pip alone, with uv installed: every installer honours pip.conf (issue 12).

Each test removes the suite's PIP_FIND_LINKS/PIP_NO_INDEX and puts the same settings only in a
pip configuration file, in each of pip's locations; uv stays offline (UV_OFFLINE=1, as in the
issue's reproduction), so a uv that did not get the wheelhouse from reprorun could not build.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reprorun.envs.installers.uv import find_uv
from sdist import build_sdist
from siteindex import simple_index
from wheelhouse import Spec, build_wheel

pytestmark = [pytest.mark.slow, pytest.mark.skipif(find_uv() is None, reason="uv is not installed")]

SCRIPT = '# /// script\n# dependencies = ["beta"]\n# ///\nimport alpha, beta\nprint("alpha", alpha.__version__)\n'


@pytest.fixture
def site(tmp_path, monkeypatch):
    """No PIP_* variable; every pip location under tmp_path (the real /etc/pip.conf sets only a cert)."""
    for name in ("PIP_FIND_LINKS", "PIP_NO_INDEX", "PIP_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    locations = {
        "global": tmp_path / "etc-xdg" / "pip" / "pip.conf",
        "legacy": home / ".pip" / "pip.conf",
        "user": tmp_path / "xdg-config" / "pip" / "pip.conf",
        "site": tmp_path / "venv" / "pip.conf",
        "env": tmp_path / "named.conf",
    }
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "etc-xdg"))
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "venv"))
    return locations


def write_conf(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def script(tmp_path: Path, text: str = SCRIPT) -> Path:
    path = tmp_path / "s.py"
    path.write_text(text)
    return path


def built_with(cache_dir: Path) -> list[str]:
    """The installer of every published env of the cache."""
    return sorted(json.loads(p.read_text())["installer"] for p in cache_dir.glob("envs/*/reprorun-complete"))


@pytest.mark.parametrize("location", ["global", "legacy", "user", "site", "env"])
@pytest.mark.parametrize("installer", ["auto", "uv"])
def test_a_wheelhouse_named_only_in_pip_conf_builds_with_uv(run_reprorun, site, wheelhouse, tmp_path, cache_dir,
                                                           location, installer):  # fmt: skip
    write_conf(site[location], f"[global]\nno-index = true\nfind-links = {wheelhouse}\n")
    env = {"PIP_CONFIG_FILE": str(site["env"])} if location == "env" else {}
    result = run_reprorun("--installer", installer, script(tmp_path), env=env)
    assert (result.returncode, result.stdout) == (0, "alpha 2.0\n"), result.stderr
    assert built_with(cache_dir) == ["uv"]


def test_without_the_file_uv_finds_nothing(run_reprorun, site, tmp_path):
    # The control: the same run with no pip configuration fails, so the tests above prove the file counts.
    result = run_reprorun("--installer", "uv", script(tmp_path))
    assert result.returncode == 1
    assert "could not install beta" in result.stderr


def test_pip_variables_alone_reach_uv(run_reprorun, site, wheelhouse, tmp_path, cache_dir):
    env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse)}
    result = run_reprorun("--installer", "uv", script(tmp_path), env=env)
    assert (result.returncode, result.stdout) == (0, "alpha 2.0\n"), result.stderr
    assert built_with(cache_dir) == ["uv"]


def test_install_section_and_variables_override_as_in_pip(run_reprorun, site, wheelhouse, tmp_path):
    write_conf(site["user"], f"[global]\nno-index = true\nfind-links = {tmp_path / 'empty'}\n"
                             f"[install]\nfind-links = {wheelhouse}\n")  # fmt: skip
    assert run_reprorun("--installer", "uv", script(tmp_path)).returncode == 0
    bad = run_reprorun("--installer", "uv", "--refresh", script(tmp_path), env={"PIP_FIND_LINKS": str(tmp_path)})
    assert bad.returncode == 1  # the variable wins over both sections, as in pip


def test_the_sources_are_in_the_key(run_reprorun, site, wheelhouse, tmp_path, cache_dir):
    other = tmp_path / "other"
    shutil.copytree(wheelhouse, other)
    write_conf(site["user"], f"[global]\nno-index = true\nfind-links = {wheelhouse}\n")
    assert run_reprorun(script(tmp_path)).returncode == 0
    write_conf(site["user"], f"[global]\nno-index = true\nfind-links = {other}\n")
    assert run_reprorun(script(tmp_path)).returncode == 0
    keys = [json.loads(p.read_text())["sources"]["find-links"] for p in cache_dir.glob("envs/*/reprorun-key.json")]
    assert sorted(keys) == sorted([[str(wheelhouse)], [str(other)]])


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_constraint_from_pip_conf(run_reprorun, site, wheelhouse, tmp_path, installer):
    constraints = write_conf(tmp_path / "constraints.txt", "alpha==1.0\n")
    write_conf(site["user"], f"[global]\nno-index = true\nfind-links = {wheelhouse}\nconstraint = {constraints}\n")
    result = run_reprorun("--installer", installer, script(tmp_path))
    assert (result.returncode, result.stdout) == (0, "alpha 1.0\n"), result.stderr


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_pre_from_pip_conf(run_reprorun, site, wheelhouse, tmp_path, installer):
    wheels = tmp_path / "wheels"
    shutil.copytree(wheelhouse, wheels)
    build_wheel(Spec("alpha", "3.0b1", "alpha"), wheels)
    write_conf(site["user"], f"[global]\nno-index = true\nfind-links = {wheels}\n")
    plain = run_reprorun("--installer", installer, script(tmp_path))
    assert plain.stdout == "alpha 2.0\n", plain.stderr
    write_conf(site["user"], f"[global]\nno-index = true\nfind-links = {wheels}\n[install]\npre = true\n")
    pre = run_reprorun("--installer", installer, script(tmp_path))
    assert pre.stdout == "alpha 3.0b1\n", pre.stderr


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_only_binary_from_pip_conf(run_reprorun, site, wheelhouse, tmp_path, installer):
    # slowpkg exists only as an sdist: refusing its source build leaves nothing to install, for both;
    # the same site without the setting builds it.
    sdists = tmp_path / "sdists"
    build_sdist(sdists)
    path = script(tmp_path, '# /// script\n# dependencies = ["slowpkg"]\n# ///\nimport slowpkg\nprint("built")\n')
    sources = f"[global]\nno-index = true\nfind-links = {wheelhouse} {sdists}\n"
    write_conf(site["user"], sources + "[install]\nonly-binary = slowpkg\n")
    refused = run_reprorun("--installer", installer, path)
    assert refused.returncode == 1
    assert "slowpkg" in refused.stderr
    write_conf(site["user"], sources)
    built = run_reprorun("--installer", installer, path)
    assert (built.returncode, built.stdout) == (0, "built\n"), built.stderr


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_no_binary_from_pip_conf(run_reprorun, site, wheelhouse, tmp_path, installer):
    # The wheelhouse has wheels only: refusing alpha's wheel leaves nothing to install, for both.
    write_conf(site["user"], f"[global]\nno-index = true\nfind-links = {wheelhouse}\nno-binary = alpha\n")
    result = run_reprorun("--installer", installer, script(tmp_path))
    assert result.returncode == 1
    assert "alpha" in result.stderr


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_index_url_from_pip_conf(run_reprorun, site, wheelhouse, tmp_path, installer):
    index = simple_index(tmp_path / "simple", wheelhouse.glob("*.whl"))
    write_conf(site["user"], f"[global]\nindex-url = {index.as_uri()}/\n")
    env = {"UV_OFFLINE": "0"}  # a local file index: no network is touched
    result = run_reprorun("--installer", installer, script(tmp_path), env=env)
    assert (result.returncode, result.stdout) == (0, "alpha 2.0\n"), result.stderr


def test_a_setting_uv_cannot_take_makes_auto_use_pip_and_v_says_why(run_reprorun, site, wheelhouse, tmp_path,
                                                                    cache_dir):  # fmt: skip
    conf = write_conf(site["user"], f"[global]\nno-index = true\nfind-links = {wheelhouse}\nprefer-binary = true\n")
    result = run_reprorun("-v", script(tmp_path))
    assert (result.returncode, result.stdout) == (0, "alpha 2.0\n"), result.stderr
    assert built_with(cache_dir) == ["pip"]
    why = f"installer: pip, because uv cannot be given pip's setting 'prefer-binary' ({conf} [global])"
    assert why in result.stderr


def test_installer_uv_with_a_setting_it_cannot_take_is_an_error(run_reprorun, site, wheelhouse, tmp_path, cache_dir):
    write_conf(site["user"], f"[global]\nno-index = true\nfind-links = {wheelhouse}\n")
    result = run_reprorun("--installer", "uv", script(tmp_path), env={"PIP_PROXY": "http://proxy.invalid:3128"})
    assert result.returncode == 1
    assert result.stderr.startswith(
        "reprorun: error: --installer uv: pip's setting 'proxy = http://proxy.invalid:3128' (PIP_PROXY)"
    ), result.stderr
    assert built_with(cache_dir) == []


def test_pip_builds_from_reprorun_reading_only(run_reprorun, site, wheelhouse, tmp_path):
    # The site file of an activated venv is invisible to the pip that runs inside the new env;
    # reprorun hands its reading over, so pip honours it too.
    write_conf(site["site"], f"[global]\nno-index = true\nfind-links = {wheelhouse}\n")
    result = run_reprorun("--installer", "pip", script(tmp_path))
    assert (result.returncode, result.stdout) == (0, "alpha 2.0\n"), result.stderr


def test_env_command_and_freeze_see_the_same_sources(run_reprorun, site, wheelhouse, tmp_path):
    write_conf(site["user"], f"[global]\nno-index = true\nfind-links = {wheelhouse}\n")
    path = script(tmp_path)
    synced = run_reprorun("sync", path)
    assert synced.returncode == 0, synced.stderr
    shown = run_reprorun("env", "--json", path)
    assert json.loads(shown.stdout)["exists"] is True
    frozen = run_reprorun("--freeze", path)
    assert frozen.returncode == 0, frozen.stderr
    assert '"alpha==2.0"' in path.read_text()


def test_warm_runs_notice_a_changed_pip_conf(run_reprorun, site, wheelhouse, tmp_path, cache_dir):
    conf = write_conf(site["user"], f"[global]\nno-index = true\nfind-links = {wheelhouse}\n")
    assert run_reprorun(script(tmp_path)).returncode == 0
    warm = run_reprorun(script(tmp_path))
    assert (warm.stdout, warm.stderr) == ("alpha 2.0\n", "")
    conf.write_text(f"[global]\nno-index = true\nfind-links = {tmp_path / 'gone'}\n")
    changed = run_reprorun(script(tmp_path))
    assert changed.returncode == 1  # a new key, and nothing to build it from: not the old env
    assert "could not install beta" in changed.stderr


def test_uv_still_offline_means_offline(site, wheelhouse, tmp_path, reprorun_exe):
    # The reproduction of the issue, as a user would type it: a pip.conf and UV_OFFLINE=1.
    conf = write_conf(tmp_path / "pip.conf", f"[global]\nno-index = true\nfind-links = {wheelhouse}\n")
    env = {**os.environ, "PIP_CONFIG_FILE": str(conf), "UV_OFFLINE": "1"}
    done = subprocess.run([str(reprorun_exe), "--installer", "uv", str(script(tmp_path))], env=env,
                          capture_output=True, text=True, check=False, cwd=tmp_path)  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "alpha 2.0\n"), done.stderr
