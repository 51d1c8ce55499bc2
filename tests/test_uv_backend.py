"""The uv backend: one `uv sync --script` where it can, the two steps where it cannot (issue 7).

The backend runs a real uv and a real interpreter against the test wheelhouse. A small shell
script stands between them and records each command line; one variant also answers `sync` as a
uv too old to know it would, so the fallback is driven by uv's own kind of usage error.
"""

from __future__ import annotations

import configparser
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from reprorun.envs import interpreters
from reprorun.envs.installers import uv as installers
from reprorun.envs.installers.base import InstallRequest
from reprorun.envs.installers.sources import Sources
from reprorun.envs.installers.uv import UvBackend
from reprorun.envs.installers.venv import env_python
from reprorun.errors import BuildError

REAL_UV = installers.find_uv()
pytestmark = pytest.mark.skipif(REAL_UV is None, reason="uv is not installed")


def _shim(folder: Path, old: bool = False) -> tuple[str, Path]:
    """A `uv` that logs its argv (one JSON list per line) and runs the real one."""
    log = folder / "uv-calls.jsonl"
    refuse = (
        'if [ "$1" = sync ]; then echo "error: unrecognized subcommand \'sync\'" >&2; exit 2; fi\n' if old else ""
    )
    shim = folder / "uv"
    shim.write_text(
        "#!/bin/sh\n"
        f'{shlex.quote(sys.executable)} -c "import json, sys; print(json.dumps(sys.argv[1:]))" "$@"'
        f" >> {shlex.quote(str(log))}\n"
        f"{refuse}"
        f'exec {shlex.quote(str(REAL_UV))} "$@"\n'
    )
    shim.chmod(0o755)
    return str(shim), log


def _calls(log: Path) -> list[str]:
    return [json.loads(line)[0] for line in log.read_text().splitlines()] if log.exists() else []


def _installed(env: Path) -> list[str]:
    code = "import importlib.metadata as m, json\n"
    code += "print(json.dumps(sorted(d.metadata['Name'] for d in m.distributions())))"
    python = str(env_python(env))
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    names: list[str] = json.loads(done.stdout)
    return names


@pytest.fixture
def interpreter(tmp_path: Path) -> interpreters.Interpreter:
    return interpreters.inspect(sys.executable, tmp_path / "interpreters")


@pytest.fixture
def sources(wheelhouse: Path) -> Sources:
    return Sources(find_links=(str(wheelhouse),), no_index=True)


REQUIREMENTS = ("gamma", 'withextra[fancy]; sys_platform != "nonexistent-os"', "Foo_Bar")
EXPECTED = ["Foo_Bar", "alpha", "beta", "delta", "epsilon", "gamma", "withextra"]


def test_a_uv_build_is_one_sync_and_installs_what_uv_pip_install_would(tmp_path, interpreter, sources):
    shim, log = _shim(tmp_path)
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    request = InstallRequest(REQUIREMENTS, sources, {})
    assert UvBackend(shim).build(one, interpreter, request, tmp_path / "app", 0) == len(EXPECTED)
    assert _calls(log) == ["sync"]
    # The two steps, as an old uv would take them, give the same packages.
    UvBackend(shim).create(two, interpreter, tmp_path / "app", 0)
    UvBackend(shim).install(two, interpreter, request, 0)
    assert _installed(one) == _installed(two) == EXPECTED
    cfg_one, cfg_two = configparser.ConfigParser(), configparser.ConfigParser()
    cfg_one.read_string("[env]\n" + (one / "pyvenv.cfg").read_text())
    cfg_two.read_string("[env]\n" + (two / "pyvenv.cfg").read_text())
    assert cfg_one["env"].pop("prompt") == "reprorun"  # the throwaway script's name
    assert dict(cfg_one["env"]) == dict(cfg_two["env"])
    assert dict(cfg_one["env"])["include-system-site-packages"] == "false"


def test_hashed_requirements_take_the_two_steps(tmp_path, interpreter, sources, wheelhouse):
    import hashlib

    shim, log = _shim(tmp_path)
    dest = tmp_path / "env"
    dest.mkdir()
    wheel = wheelhouse / "alpha-2.0-py3-none-any.whl"
    digest = "sha256:" + hashlib.sha256(wheel.read_bytes()).hexdigest()
    request = InstallRequest(("alpha==2.0",), sources, {"alpha": (digest,)})
    assert UvBackend(shim).build(dest, interpreter, request, tmp_path / "app", 0) == 1
    assert _calls(log) == ["venv", "pip"]  # uv sync takes no --require-hashes
    assert "--require-hashes" in log.read_text()


def test_a_uv_without_sync_falls_back_to_the_two_steps(tmp_path, interpreter, sources):
    shim, log = _shim(tmp_path, old=True)
    dest = tmp_path / "env"
    dest.mkdir()
    request = InstallRequest(REQUIREMENTS, sources, {})
    assert UvBackend(shim).build(dest, interpreter, request, tmp_path / "app", 0) == len(EXPECTED)
    assert _calls(log) == ["sync", "venv", "pip"]
    assert _installed(dest) == EXPECTED


def test_no_requirements_is_uv_venv_alone(tmp_path, interpreter):
    shim, log = _shim(tmp_path)
    dest = tmp_path / "env"
    dest.mkdir()
    assert UvBackend(shim).build(dest, interpreter, None, tmp_path / "app", 0) == 0
    assert _calls(log) == ["venv"]
    assert env_python(dest).exists()


def test_a_failed_sync_says_why_in_a_few_lines(tmp_path, interpreter, sources, monkeypatch):
    import tempfile

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    shim, log = _shim(tmp_path)
    dest = tmp_path / "env"
    dest.mkdir()
    request = InstallRequest(("alpha==9.9",), sources, {})
    with pytest.raises(BuildError) as caught:
        UvBackend(shim).build(dest, interpreter, request, tmp_path / "app", 0)
    message = str(caught.value)
    assert message.startswith("could not install alpha==9.9:")
    assert "alpha" in message and len(message.splitlines()) <= 8, message
    assert _calls(log) == ["sync"]  # a real failure is not retried the other way
    assert os.listdir(temp) == []  # the throwaway script is gone
