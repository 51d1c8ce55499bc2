"""The export renderers, the PEP 751 writer and reader, and the bundle manifest: pure, no pip."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

import hashlib
import json
import shlex
import subprocess
from pathlib import Path

import pytest

from reprorun.errors import BundleError
from reprorun.portable import containers, exported, pylock
from reprorun.portable.exported import Exported, Wheel
from reprorun.portable.targets import parse
from reprorun.portable.unbundle import verify

H1, H2, H3 = ("sha256:" + c * 64 for c in "123")
LINUX, MAC = parse("cp311-linux-x86_64"), parse("cp311-macos-arm64")
PINS = ("alpha==2.0", "beta[fancy]==1.0", "native==1.0; sys_platform == 'darwin'",
        "native==2.0; sys_platform == 'linux'", "colorama; sys_platform == 'win32'")  # fmt: skip


def _export(hashes: dict[str, tuple[str, ...]] | None = None, **more: object) -> Exported:
    return Exported("work/job.py", PINS, hashes or {}, (LINUX, MAC), "cp311-linux-x86_64, cp311-macos-arm64",
                    ">=3.10", **more)  # type: ignore[arg-type]  # fmt: skip


def test_names_of_the_script_and_the_python_of_its_linux_target() -> None:
    export = _export()
    assert (export.name, export.stem, export.python) == ("job.py", "job", "3.11")
    only_mac = Exported("job", PINS, {}, (parse("cp312-macos-arm64"),), "cp312-macos-arm64")
    assert (only_mac.stem, only_mac.python) == ("job", "3.12")


def test_requirements_without_hashes_is_the_pins_as_they_are() -> None:
    text = exported.requirements(_export())
    assert text.splitlines() == [
        "# Exported by reprorun from job.py, frozen for cp311-linux-x86_64, cp311-macos-arm64.", *PINS]


def test_requirements_with_hashes_puts_each_hash_on_its_own_line() -> None:
    text = exported.requirements(_export({"alpha": (H1,), "beta": (H2,), "native": (H1, H3)}))
    assert text.splitlines()[1:5] == ["alpha==2.0 \\", f"    --hash={H1}", "beta[fancy]==1.0 \\", f"    --hash={H2}"]
    assert f"native==2.0; sys_platform == 'linux' \\\n    --hash={H1} \\\n    --hash={H3}\n" in text
    assert text.endswith("colorama; sys_platform == 'win32'\n")  # kept as written, nothing recorded for it


def test_requirement_lines_are_what_pip_reads_in_a_requirements_file(tmp_path: Path) -> None:
    lines = exported.requirement_lines(_export({"alpha": (H1,)}))
    assert lines[0] == f"alpha==2.0 --hash={H1}"
    assert lines[1] == "beta[fancy]==1.0"


def test_environment_yml_quotes_every_pip_line() -> None:
    import yaml

    export = _export({"alpha": (H1,)})
    env = yaml.safe_load(exported.environment_yml(export))
    pins = exported.requirement_lines(export)
    assert env == {"name": "job", "channels": ["conda-forge"], "dependencies": ["python=3.11", "pip", {"pip": pins}]}


def test_install_commands_write_the_requirements_with_double_quoted_markers() -> None:
    commands = containers.install_commands(_export({"alpha": (H1,)}))
    assert commands[0] == "python -m venv /opt/venv"
    words = shlex.split(commands[1])
    assert words[:2] == ["printf", "%s\\n"]
    assert words[2:-2] == [f"alpha==2.0 --hash={H1}", "beta[fancy]==1.0", 'native==1.0; sys_platform == "darwin"',
                           'native==2.0; sys_platform == "linux"', 'colorama; sys_platform == "win32"']  # fmt: skip
    assert "'\"'\"'" not in commands[1]  # no quote escaping needed
    assert "--require-hashes" in commands[2]
    assert commands[3] == "rm /tmp/requirements.txt"


def test_install_commands_really_write_that_file(tmp_path: Path) -> None:
    write = containers.install_commands(_export())[1].replace("/tmp/requirements.txt", str(tmp_path / "r.txt"))
    subprocess.run(["sh", "-c", write], check=True)
    assert (tmp_path / "r.txt").read_text().splitlines()[2] == 'native==1.0; sys_platform == "darwin"'


def test_an_empty_block_makes_only_the_venv() -> None:
    empty = Exported("job.py", (), {}, (LINUX,), "cp311-linux-x86_64")
    assert containers.install_commands(empty) == ["python -m venv /opt/venv"]
    assert "RUN python -m venv /opt/venv\n" in containers.dockerfile(empty)


def test_dockerfile_and_apptainer_text() -> None:
    docker = containers.dockerfile(_export())
    assert docker.splitlines()[2] == "FROM python:3.11-slim"
    assert docker.splitlines()[3] == "ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1"
    assert docker.endswith('COPY job.py /app/job.py\nENTRYPOINT ["python", "/app/job.py"]\n')
    definition = containers.apptainer(_export())
    assert "Bootstrap: docker\nFrom: python:3.11-slim\n" in definition
    assert "%files\n    job.py /app/job.py\n" in definition
    assert definition.endswith('%runscript\n    exec /opt/venv/bin/python /app/job.py "$@"\n')


# --- pylock -----------------------------------------------------------------------------------------


def _with_wheels(tmp_path: Path) -> Exported:
    def wheel(name: str) -> Wheel:
        return Wheel(name, (tmp_path / "wheels" / name).as_uri(), hashlib.sha256(name.encode()).hexdigest())

    wheels = {
        "alpha==2.0": (wheel("alpha-2.0-py3-none-any.whl"),),
        "beta[fancy]==1.0": (Wheel("beta-1.0-py3-none-any.whl", "https://files.example/beta-1.0-py3-none-any.whl",
                                   "ab" * 32),),
        "native==1.0; sys_platform == 'darwin'": (wheel("native-1.0-cp311-cp311-macosx_11_0_arm64.whl"),),
        "native==2.0; sys_platform == 'linux'": (wheel("native-2.0-cp311-cp311-manylinux_2_17_x86_64.whl"),),
    }  # fmt: skip
    return _export(wheels=wheels)


def test_pylock_is_valid_pep_751_with_paths_urls_markers_and_environments(tmp_path: Path) -> None:
    from packaging.pylock import Pylock

    text = pylock.render(_with_wheels(tmp_path), relative_to=str(tmp_path))
    data = tomllib.loads(text)
    Pylock.from_dict(data)
    assert data["lock-version"] == "1.0" and data["created-by"] == "reprorun"
    assert data["requires-python"] == ">=3.10"
    assert data["environments"] == [
        'sys_platform == "linux" and platform_machine == "x86_64" and python_version == "3.11"',
        'sys_platform == "darwin" and platform_machine == "arm64" and python_version == "3.11"']  # fmt: skip
    packages = {(p["name"], p["version"]): p for p in data["packages"]}
    assert list(packages) == [("alpha", "2.0"), ("beta", "1.0"), ("native", "1.0"), ("native", "2.0")]
    assert packages["alpha", "2.0"]["wheels"][0]["path"] == "wheels/alpha-2.0-py3-none-any.whl"
    assert packages["beta", "1.0"]["wheels"][0]["url"] == "https://files.example/beta-1.0-py3-none-any.whl"
    assert packages["native", "1.0"]["marker"] == 'sys_platform == "darwin"'
    assert "marker" not in packages["alpha", "2.0"]


def test_pylock_without_relative_to_writes_absolute_paths(tmp_path: Path) -> None:
    data = tomllib.loads(pylock.render(_with_wheels(tmp_path)))
    assert data["packages"][0]["wheels"][0]["path"] == str(tmp_path / "wheels" / "alpha-2.0-py3-none-any.whl")


def test_pylock_read_gives_back_requirements_and_hashes(tmp_path: Path) -> None:
    text = pylock.render(_with_wheels(tmp_path), relative_to=str(tmp_path))
    locked = pylock.read(text, "pylock.toml")
    assert [p.requirement for p in locked] == [
        "alpha==2.0", "beta==1.0", 'native==1.0; sys_platform == "darwin"', 'native==2.0; sys_platform == "linux"']
    assert locked[1].sha256 == ("sha256:" + "ab" * 32,)
    assert locked[0].files == ("wheels/alpha-2.0-py3-none-any.whl",)


@pytest.mark.parametrize(("text", "message"), [
    ("lock-version = ", "not a valid pylock.toml"),
    ('lock-version = "2.0"', "lock-version '2.0' is not '1.0'"),
])  # fmt: skip
def test_pylock_read_refuses_what_it_cannot_read(text: str, message: str) -> None:
    from reprorun.errors import UsageError

    with pytest.raises(UsageError, match=message):
        pylock.read(text, "pylock.toml")


# --- the bundle manifest ----------------------------------------------------------------------------


def _bundle(root: Path) -> Path:
    (root / "wheels").mkdir(parents=True)
    files = {"job.py": b"print(1)\n", "bundle.json": json.dumps({"script": "job.py"}).encode(),
             "pylock.toml": b'lock-version = "1.0"\n', "wheels/a-1.0-py3-none-any.whl": b"wheel"}  # fmt: skip
    for name, data in files.items():
        (root / name).write_bytes(data)
    lines = "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in sorted(files.items()))
    (root / "SHA256SUMS").write_text(lines)
    return root


def test_a_whole_bundle_verifies(tmp_path: Path) -> None:
    verify(_bundle(tmp_path / "b"), "b")


@pytest.mark.parametrize(("harm", "message"), [
    (lambda b: (b / "job.py").write_text("print(2)\n"), "b: job.py does not match its sha256 in SHA256SUMS"),
    (lambda b: (b / "wheels" / "a-1.0-py3-none-any.whl").unlink(), "b: wheels/a-1.0-py3-none-any.whl is missing"),
    (lambda b: (b / "SHA256SUMS").write_text("abc  job.py\n"), "b: SHA256SUMS line 1 is not 'sha256  path'"),
    (lambda b: (b / "SHA256SUMS").write_text("0" * 64 + "  ../etc/passwd\n"), "SHA256SUMS line 1 is not"),
    (lambda b: (b / "SHA256SUMS").write_text("0" * 64 + "  /etc/passwd\n"), "SHA256SUMS line 1 is not"),
    (lambda b: (b / "SHA256SUMS").write_text("".join(ln for ln in (b / "SHA256SUMS").read_text().splitlines(True)
                                                      if "pylock" not in ln)),
     "b: the manifest does not list pylock.toml; refusing the bundle"),
])  # fmt: skip
def test_a_harmed_bundle_is_refused_naming_what(tmp_path: Path, harm, message: str) -> None:
    bundle = _bundle(tmp_path / "b")
    harm(bundle)
    with pytest.raises(BundleError) as caught:
        verify(bundle, "b")
    assert message in caught.value.message


# --- more edges of the renderers ----------------------------------------------------------------------


def test_pylock_without_targets_or_requires_python_and_pins_without_wheels(tmp_path: Path) -> None:
    wheel = Wheel("a-1-py3-none-any.whl", (tmp_path / "a-1-py3-none-any.whl").as_uri(), "c" * 64)
    export = Exported("job.py", ("a==1", "b @ https://example.org/b.whl", "c; sys_platform == 'win32'"), {}, (),
                      "x", wheels={"a==1": (wheel,)})  # fmt: skip
    data = tomllib.loads(pylock.render(export))
    assert "environments" not in data and "requires-python" not in data
    assert [p["name"] for p in data["packages"]] == ["a"]  # the others have no wheel to lock


def test_pylock_strings_are_escaped_as_toml(tmp_path: Path) -> None:
    wheel = Wheel('q"uote-1-py3-none-any.whl', "https://example.org/q%22uote.whl", "d" * 64)
    export = Exported("job.py", ("q==1",), {}, (), "x", requires_python='>=3.10,!="3.11.0"', wheels={"q==1": (wheel,)})
    data = tomllib.loads(pylock.render(export))
    assert data["requires-python"] == '>=3.10,!="3.11.0"'
    assert data["packages"][0]["wheels"][0]["name"] == 'q"uote-1-py3-none-any.whl'


def test_environment_name_and_image_tag_come_from_the_script_name() -> None:
    export = Exported("some dir/My Job.py", ("a==1",), {}, (LINUX,), "cp311-linux-x86_64")
    assert yaml_name(exported.environment_yml(export)) == "My-Job"
    assert "docker build -t my-job -f Dockerfile ." in containers.dockerfile(export)


def yaml_name(text: str) -> str:
    import yaml

    return str(yaml.safe_load(text)["name"])


def test_wheel_of_a_report_item() -> None:
    from reprorun.portable.resolve import wheel_of

    item = {"download_info": {"url": "https://files.example/p/a-1.0-py3-none-any.whl#sha256=ab",
                              "archive_info": {"hashes": {"sha256": "ab" * 32}}}}  # fmt: skip
    assert wheel_of(item) == ("a-1.0-py3-none-any.whl", item["download_info"]["url"], "ab" * 32)
    assert wheel_of({"download_info": {"url": "file:///w/b-1-py3-none-any.whl"}})[2] is None


def test_the_export_table_names_every_format_in_its_help() -> None:
    import argparse

    from reprorun.commands import export

    parser = argparse.ArgumentParser()
    export.configure("export", parser)
    text = parser.format_help()
    for name in export.FORMATS:
        assert name in text
    assert export.describe("export").startswith("Write the script's frozen pins for another tool: requirements")
    ns = parser.parse_args(["--format", "pylock", "job.py"])
    assert (ns.format, ns.output, ns.script) == ("pylock", None, "job.py")
