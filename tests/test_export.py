"""`reprorun export`: each format is read by the real tool it is for, and installs exactly the pins."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from portable_wheels import CP, PY, build
from reprorun.envs.installers.pip import pip_argv
from reprorun.envs.installers.uv import find_uv

SCRIPT = '# /// script\n# dependencies = ["beta"]\n# ///\nimport beta\nprint("beta", beta.__version__)\n'


@pytest.fixture(scope="module")
def platform_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portability wheelhouse (tests/portable_wheels.py)."""
    return build(tmp_path_factory.mktemp("platform-wheels"))


@pytest.fixture
def frozen(run_reprorun, tmp_path: Path) -> Path:
    """A script frozen with hashes from the session wheelhouse (beta 1.0, alpha 2.0)."""
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    done = run_reprorun("--python", PY, "--freeze", "--hashes", script)
    assert done.returncode == 0, done.stderr
    return script


def _installed(python: Path) -> dict[str, str]:
    code = ("import importlib.metadata as m, json; "
            "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))")
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout
    import json

    found: dict[str, str] = json.loads(out)
    return {k: v for k, v in found.items() if k not in ("pip", "setuptools")}


def _venv(path: Path, with_pip: bool = False) -> Path:
    venv.EnvBuilder(with_pip=with_pip).create(path)
    return path / "bin" / "python"


def test_requirements_with_hashes_installs_exactly_the_pins(run_reprorun, frozen: Path, tmp_path: Path,
                                                             wheelhouse: Path) -> None:  # fmt: skip
    done = run_reprorun("export", "--format", "requirements", frozen)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("# Exported by reprorun from job.py, frozen for cpython-")
    assert lines[1] == "alpha==2.0 \\" and lines[2].startswith("    --hash=sha256:")
    assert lines[3] == "beta==1.0 \\"
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(done.stdout)
    python = _venv(tmp_path / "v")
    pip = pip_argv(sys.executable, PY)
    installed = subprocess.run([*pip, "--python", str(python), "install", "--require-hashes", "-r", str(requirements)],
                               capture_output=True, text=True, check=False)  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    assert _installed(python) == {"alpha": "2.0", "beta": "1.0"}


def test_a_block_that_is_not_frozen_is_resolved_first_and_said_so(run_reprorun, tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    done = run_reprorun("export", "--format", "requirements", script)
    assert done.returncode == 0, done.stderr
    assert "the block is not frozen" in done.stderr and "resolved it first" in done.stderr
    assert done.stdout.splitlines()[1:] == ["alpha==2.0", "beta==1.0"]
    assert script.read_text() == SCRIPT


def test_pylock_beside_the_script_installs_with_uv_and_pip(run_reprorun, frozen: Path, tmp_path: Path) -> None:
    from packaging.pylock import Pylock

    done = run_reprorun("export", "--format", "pylock", frozen)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    lock = frozen.parent / "pylock.job.toml"
    data = tomllib.loads(lock.read_text())
    Pylock.from_dict(data)  # the PEP 751 validator of packaging
    assert [(p["name"], p["version"]) for p in data["packages"]] == [("alpha", "2.0"), ("beta", "1.0")]
    from reprorun.script import metadata

    recorded = metadata.parse(frozen.read_text()).settings.hashes
    assert [f"sha256:{p['wheels'][0]['hashes']['sha256']}" for p in data["packages"]] == [
        recorded["alpha"][0], recorded["beta"][0]]  # fmt: skip
    with_uv = _venv(tmp_path / "uv")
    done = subprocess.run([str(find_uv()), "pip", "install", "--no-config", "--offline", "--python", str(with_uv),
                           "-r", str(lock)], capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _installed(with_uv) == {"alpha": "2.0", "beta": "1.0"}
    with_pip = _venv(tmp_path / "pip")
    pip = pip_argv(sys.executable, PY)
    done = subprocess.run([*pip, "--python", str(with_pip), "install", "--no-index", "-r", str(lock)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _installed(with_pip) == {"alpha": "2.0", "beta": "1.0"}


def test_pylock_of_a_block_frozen_for_four_platforms(run_reprorun, tmp_path: Path, platform_wheels: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text('# /// script\n# dependencies = ["app"]\n# ///\n')
    four = ["--for", "linux-x86_64", "--for", "linux-aarch64", "--for", "windows-x86_64", "--for", "macos-arm64"]
    done = run_reprorun("--python", PY, "--find-links", platform_wheels, "--freeze", *four, script)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out" / "lock.toml"
    out.parent.mkdir()
    done = run_reprorun("--python", PY, "--find-links", platform_wheels, "export", "-f", "pylock", "-o", out, script)
    assert done.returncode == 0, done.stderr
    data = tomllib.loads(out.read_text())
    native = {p["version"]: sorted(w["name"] for w in p["wheels"]) for p in data["packages"] if p["name"] == "native"}
    assert native == {
        "1.0": [f"native-1.0-{CP}-{CP}-manylinux_2_17_aarch64.whl"],
        "2.0": [f"native-2.0-{CP}-{CP}-macosx_11_0_arm64.whl", f"native-2.0-{CP}-{CP}-manylinux_2_17_x86_64.whl",
                f"native-2.0-{CP}-{CP}-win_amd64.whl"],
    }  # fmt: skip
    assert len(data["environments"]) == 4
    lock = tmp_path / "pylock.toml"
    lock.write_text(out.read_text())
    python = _venv(tmp_path / "v")
    done = subprocess.run([str(find_uv()), "pip", "install", "--no-config", "--offline", "--python", str(python),
                           "-r", str(lock)], capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _installed(python) == {"app": "1.0", "native": "2.0", "pure": "1.0"}


def test_environment_yml_is_yaml_with_python_and_a_pip_section(run_reprorun, frozen: Path, tmp_path: Path) -> None:
    import yaml

    done = run_reprorun("export", "--format", "environment.yml", frozen)
    assert done.returncode == 0, done.stderr
    env = yaml.safe_load(done.stdout)
    assert env["name"] == "job"
    assert env["dependencies"][:2] == [f"python={PY}", "pip"]
    pins = env["dependencies"][2]["pip"]
    assert [p.split(" ")[0] for p in pins] == ["alpha==2.0", "beta==1.0"]
    requirements = tmp_path / "r.txt"  # what conda does with the pip section: a requirements file for pip
    requirements.write_text("\n".join(pins) + "\n")
    python = _venv(tmp_path / "v")
    done = subprocess.run([*pip_argv(sys.executable, PY), "--python", str(python), "install", "-r", str(requirements)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _installed(python) == {"alpha": "2.0", "beta": "1.0"}


def _run_install_steps(commands: str, root: Path) -> Path:
    """Run an image's install commands on this machine: /opt/venv and /tmp moved under root."""
    shell = commands.replace("/tmp/requirements.txt", f"{root}/requirements.txt").replace("/opt/venv", f"{root}/venv")
    bindir = root / "bin"
    bindir.mkdir(parents=True)
    (bindir / "python").symlink_to(sys.executable)
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["sh", "-ec", shell], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not list(root.glob("requirements.txt"))
    return root / "venv" / "bin" / "python"


def test_dockerfile_parses_lints_and_its_install_step_installs_the_pins(run_reprorun, frozen: Path,
                                                                          tmp_path: Path) -> None:  # fmt: skip
    from dockerfile_parse import DockerfileParser

    out = tmp_path / "Dockerfile"
    done = run_reprorun("export", "--format", "dockerfile", "-o", out, frozen)
    assert done.returncode == 0, done.stderr
    lint = subprocess.run([str(Path(sys.executable).parent / "hadolint"), str(out)], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr
    parser = DockerfileParser(path=str(out))
    assert parser.baseimage == f"python:{PY}-slim"
    instructions = [(i["instruction"], i["value"]) for i in parser.structure if i["instruction"] != "COMMENT"]
    assert [name for name, _ in instructions] == ["FROM", "ENV", "RUN", "WORKDIR", "COPY", "ENTRYPOINT"]
    assert ("COPY", "job.py /app/job.py") in instructions
    assert ("ENTRYPOINT", '["python", "/app/job.py"]') in instructions
    (run,) = [value for name, value in instructions if name == "RUN"]
    assert "--require-hashes" in run
    python = _run_install_steps(run, tmp_path / "image")
    assert _installed(python) == {"alpha": "2.0", "beta": "1.0"}
    ran = subprocess.run([str(python), str(frozen)], capture_output=True, text=True, check=False)
    assert ran.stdout == "beta 1.0\n"


def test_apptainer_definition_parses_and_its_post_section_installs_the_pins(run_reprorun, frozen: Path,
                                                                             tmp_path: Path) -> None:  # fmt: skip
    from spython.main.parse.parsers import SingularityParser

    out = tmp_path / "job.def"
    done = run_reprorun("export", "--format", "apptainer", "-o", out, frozen)
    assert done.returncode == 0, done.stderr
    (recipe,) = SingularityParser(str(out)).recipe.values()
    assert recipe.fromHeader == f"python:{PY}-slim"
    assert recipe.files == ["job.py /app/job.py"]
    assert recipe.cmd == 'exec /opt/venv/bin/python /app/job.py "$@"'
    assert recipe.environ == ["VIRTUAL_ENV=/opt/venv", "PATH=/opt/venv/bin:$PATH"]
    python = _run_install_steps("\n".join(recipe.install), tmp_path / "image")
    assert _installed(python) == {"alpha": "2.0", "beta": "1.0"}


def test_export_to_stdout_with_dash_and_bad_input(run_reprorun, frozen: Path, tmp_path: Path) -> None:
    done = run_reprorun("export", "-f", "pylock", "-o", "-", frozen)
    assert done.returncode == 0 and done.stdout.startswith('lock-version = "1.0"')
    assert not (frozen.parent / "pylock.job.toml").exists()
    bad = run_reprorun("export", "-f", "nonsense", frozen)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    bare = tmp_path / "bare.py"
    bare.write_text("print(1)\n")
    none = run_reprorun("export", "-f", "requirements", bare)
    assert none.returncode == 2
    assert none.stderr.startswith(f"reprorun: error: {bare}: no '# /// script' block to export")


def test_the_format_table_is_easy_to_extend() -> None:
    from reprorun.commands import export

    assert {"requirements", "pylock", "environment.yml", "dockerfile", "apptainer", "slurm"} <= set(export.FORMATS)
    assert export.FORMATS["pylock"].beside is not None and export.FORMATS["pylock"].beside("job") == "pylock.job.toml"
