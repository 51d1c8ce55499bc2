"""`reprorun bundle` and `reprorun --bundle`: carry the wheels, refuse damage, run with no network."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from portable_wheels import CP, PY, build

FOUR = ["--for", "linux-x86_64", "--for", "linux-aarch64", "--for", "windows-x86_64", "--for", "macos-arm64"]
SCRIPT = '# /// script\n# dependencies = ["app"]\n# ///\nimport app\napp.main()\n'


@pytest.fixture(scope="module")
def platform_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portability wheelhouse (tests/portable_wheels.py)."""
    return build(tmp_path_factory.mktemp("platform-wheels"))


@pytest.fixture
def frozen(run_reprorun, tmp_path: Path, platform_wheels: Path) -> Path:
    """A script frozen with hashes for four platforms from the portability wheelhouse."""
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    done = run_reprorun("--python", PY, "--find-links", platform_wheels, "--freeze", "--hashes", *FOUR, script)
    assert done.returncode == 0, done.stderr
    return script


_BUILT: dict[str, Path] = {}


@pytest.fixture
def bundled(run_reprorun, tmp_path_factory: pytest.TempPathFactory, platform_wheels: Path) -> Path:
    """A bundle folder of a frozen script, made once for this module (tests copy it before harming it)."""
    if "folder" not in _BUILT:
        root = tmp_path_factory.mktemp("bundled")
        script = root / "job.py"
        script.write_text(SCRIPT)
        done = run_reprorun("--python", PY, "--find-links", platform_wheels, "--freeze", "--hashes", *FOUR, script)
        assert done.returncode == 0, done.stderr
        done = _bundle(run_reprorun, platform_wheels, script, root / "b")
        assert done.returncode == 0, done.stderr
        done = _bundle(run_reprorun, platform_wheels, script, root / "job.bundle.tar.gz")
        assert done.returncode == 0, done.stderr
        _BUILT["folder"] = root / "b"
    return _BUILT["folder"]


def _bundle(run_reprorun, wheels: Path, script: Path, out: Path, *more: str):
    return run_reprorun("--python", PY, "--find-links", wheels, "bundle", *more, "-o", out, script)


def test_a_bundle_holds_the_script_every_wheel_a_lock_and_a_manifest(run_reprorun, frozen: Path, tmp_path: Path,
                                                                     platform_wheels: Path) -> None:  # fmt: skip
    from packaging.pylock import Pylock

    out = tmp_path / "b"
    done = _bundle(run_reprorun, platform_wheels, frozen, out)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert f"run it with: reprorun --bundle {out} job.py" in done.stderr
    wheels = sorted(p.name for p in (out / "wheels").iterdir())
    assert wheels == sorted([
        "app-1.0-py3-none-any.whl", "pure-1.0-py3-none-any.whl", "winshim-1.0-py3-none-win_amd64.whl",
        f"native-1.0-{CP}-{CP}-manylinux_2_17_aarch64.whl", f"native-2.0-{CP}-{CP}-manylinux_2_17_x86_64.whl",
        f"native-2.0-{CP}-{CP}-macosx_11_0_arm64.whl", f"native-2.0-{CP}-{CP}-win_amd64.whl",
    ])  # fmt: skip
    assert (out / "job.py").read_text() == frozen.read_text()
    check = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=out, capture_output=True, text=True,
                           check=False)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert len(check.stdout.splitlines()) == len(wheels) + 3  # the script, bundle.json, pylock.toml
    lock = tomllib.loads((out / "pylock.toml").read_text())
    Pylock.from_dict(lock)
    paths = sorted(w["path"] for p in lock["packages"] for w in p["wheels"])
    assert paths == [f"wheels/{w}" for w in wheels]


def test_a_block_that_is_not_frozen_is_resolved_and_the_user_told(run_reprorun, tmp_path: Path,
                                                                  platform_wheels: Path) -> None:  # fmt: skip
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    out = tmp_path / "b.tar.gz"
    done = _bundle(run_reprorun, platform_wheels, script, out, "--for", "windows-x86_64")
    assert done.returncode == 0, done.stderr
    assert "the bundle holds pins the script does not" in done.stderr
    assert script.read_text() == SCRIPT
    with tarfile.open(out) as tar:
        names = sorted(tar.getnames())
    assert "wheels/winshim-1.0-py3-none-win_amd64.whl" in names
    assert f"wheels/native-2.0-{CP}-{CP}-win_amd64.whl" in names
    assert not [n for n in names if "manylinux" in n]


def test_a_wheel_that_does_not_match_the_recorded_hash_is_not_bundled(run_reprorun, frozen: Path, tmp_path: Path,
                                                                      platform_wheels: Path) -> None:  # fmt: skip
    text = frozen.read_text()
    start = text.index("# pure = [") + len('# pure = ["sha256:')
    frozen.write_text(text[:start] + "0" * 64 + text[start + 64 :])
    out = tmp_path / "b"
    done = _bundle(run_reprorun, platform_wheels, frozen, out)
    assert done.returncode == 1
    assert "reprorun: error: pure-1.0-py3-none-any.whl has sha256:" in done.stderr
    assert "which the block does not record for pure" in done.stderr
    assert not out.exists() and not list(tmp_path.glob(".b.*"))


def _clean_env(cache: Path) -> dict[str, str]:
    """No PIP_/UV_ variable, no pip configuration, an empty cache: only what a bare machine has."""
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    return {**keep, "PIP_CONFIG_FILE": os.devnull, "UV_NO_CONFIG": "1", "REPRORUN_CACHE_DIR": str(cache)}


def _unshare_works() -> bool:
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False).returncode == 0
    except OSError:
        return False


@pytest.mark.skipif(not _unshare_works(), reason="needs 'unshare -n' (root, or user namespaces)")
@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_run_from_a_bundle_in_a_network_namespace_with_no_network(reprorun_exe: Path, bundled: Path,
                                                                  tmp_path: Path, installer: str) -> None:  # fmt: skip
    out = bundled.parent / "job.bundle.tar.gz"
    node = tmp_path / "compute-node"
    node.mkdir()
    shutil.copy(out, node / out.name)
    env = _clean_env(node / "cache")
    probe = ("import socket\ntry:\n    socket.create_connection(('1.1.1.1', 443), timeout=3)\n"
             "except OSError:\n    print('no network')")
    isolated = subprocess.run(["unshare", "-n", sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                              check=False)  # fmt: skip
    assert isolated.stdout == "no network\n"
    ran = subprocess.run(["unshare", "-n", str(reprorun_exe), "--installer", installer, "--bundle", out.name, "job.py"],
                         cwd=node, capture_output=True, text=True, env=env, check=False, timeout=300)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "app 2.0\n"
    assert f"Python {PY}" in ran.stderr
    again = subprocess.run(["unshare", "-n", str(reprorun_exe), "--bundle", out.name, "job.py"], cwd=node,
                           capture_output=True, text=True, env=env, check=False)  # fmt: skip
    assert again.returncode == 0 and again.stdout == "app 2.0\n"
    assert "creating an environment" not in again.stderr


@pytest.mark.parametrize("damage", ["tampered", "truncated", "unlisted", "no manifest"])
def test_a_damaged_bundle_is_refused_naming_the_file(bundled: Path, tmp_path: Path, damage: str) -> None:
    out = tmp_path / "b"
    shutil.copytree(bundled, out)
    wheel = out / "wheels" / "pure-1.0-py3-none-any.whl"
    data = wheel.read_bytes()
    expected = "wheels/pure-1.0-py3-none-any.whl does not match its sha256 in SHA256SUMS"
    if damage == "tampered":
        wheel.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    elif damage == "truncated":
        wheel.write_bytes(data[: len(data) // 2])
    elif damage == "unlisted":
        (out / "wheels" / "extra-1.0-py3-none-any.whl").write_bytes(data)
        expected = "wheels/extra-1.0-py3-none-any.whl is not in the manifest; refusing the bundle"
    else:
        (out / "SHA256SUMS").unlink()
        expected = "no SHA256SUMS; this is not a reprorun bundle"
    env = _clean_env(tmp_path / "cache")
    ran = subprocess.run([*map(str, _argv(out))], cwd=tmp_path, capture_output=True, text=True, env=env, check=False)
    assert ran.returncode == 1
    assert ran.stderr.startswith(f"reprorun: error: {out}: {expected}")
    assert ran.stdout == ""
    assert not (tmp_path / "cache" / "envs").exists() or not list((tmp_path / "cache" / "envs").iterdir())


def _argv(bundle: Path) -> list[str | Path]:
    exe = Path(sys.executable).parent / "reprorun"
    return [exe, "--bundle", bundle, "job.py"]


def test_an_unsafe_archive_is_refused(run_reprorun, tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    payload = tmp_path / "payload"
    payload.write_text("x")
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(payload, arcname="../escape")
    done = run_reprorun("--bundle", evil, tmp_path / "job.py")
    assert done.returncode == 1
    assert "unsafe member '../escape'" in done.stderr
    assert not (tmp_path.parent / "escape").exists()
