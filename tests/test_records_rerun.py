"""`reprorun rerun RECORD [--check]`: the recorded environment rebuilt, the recorded bytes rerun."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from crates import check_crate, records_in

pytestmark = pytest.mark.slow

PIP = {"REPRORUN_INSTALLER": "pip"}
VERSIONS = "import importlib.metadata as m, sys\nprint(sys.argv[1:], sorted((d.metadata['Name'], d.version) for d in m.distributions()))\n"  # noqa: E501
PY312 = "3.12"  # a version request: reprorun finds that Python as it always does


def write(folder: Path, name: str, deps: list[str], body: str) -> Path:
    path = folder / name
    path.write_text(f"# /// script\n# dependencies = {json.dumps(deps)}\n# ///\n{body}", encoding="utf-8")
    return path


def record_one(run_reprorun, tmp_path: Path, path: Path, *args: str, env: dict[str, str] | None = None,
               extra: tuple[str, ...] = ()) -> tuple[Path, str]:  # fmt: skip
    runs = tmp_path / "runs"
    before = set(records_in(runs)) if runs.is_dir() else set()
    result = run_reprorun("--record", runs, *extra, path, *args, env={**PIP, **(env or {})}, cwd=tmp_path)
    (record,) = set(records_in(runs)) - before
    return record, result.stdout


def test_rerun_rebuilds_from_recorded_pins_and_hashes_in_a_fresh_cache(run_reprorun, tmp_path, wheelhouse):
    path = write(tmp_path, "s.py", ["gamma"], VERSIONS)
    old, first = record_one(run_reprorun, tmp_path, path, "a b")
    recorded = check_crate(old)
    again = run_reprorun("rerun", old, env={"REPRORUN_CACHE_DIR": str(tmp_path / "fresh-cache")})
    assert again.returncode == 0, again.stderr
    assert again.stdout == first  # same arguments, same distributions and versions
    assert "creating an environment" in again.stderr  # rebuilt: the fresh cache had nothing
    (new,) = set(records_in(tmp_path / "runs")) - {old}
    facts = check_crate(new)
    assert facts["run"]["based_on"] == recorded["run"]["uuid"]
    assert facts["run"]["argv"] == ["a b"]
    document = facts["env"]["document"]
    assert document["requirements"] == sorted(f"{p['name']}=={p['version']}" for p in recorded["packages"])
    assert document["hashes"] == {p["name"]: [f"sha256:{p['sha256']}"] for p in recorded["packages"]}
    assert document["python"]["version"] == recorded["python"]["version"]
    assert [(p["name"], p["sha256"]) for p in facts["packages"]] == [
        (p["name"], p["sha256"]) for p in recorded["packages"]
    ]
    shown = run_reprorun("runs", "show", new.name, tmp_path / "runs")
    assert f"repeats:      {recorded['run']['uuid']}" in shown.stdout


def test_rerun_refuses_a_wheel_whose_hash_differs(run_reprorun, tmp_path, wheelhouse):
    path = write(tmp_path, "s.py", ["gamma"], VERSIONS)
    old, _ = record_one(run_reprorun, tmp_path, path)
    altered = tmp_path / "altered"
    shutil.copytree(wheelhouse, altered)
    with zipfile.ZipFile(altered / "gamma-1.0-py3-none-any.whl", "a") as wheel:
        wheel.comment = b"same name and version, other bytes"
    env = {**PIP, "REPRORUN_CACHE_DIR": str(tmp_path / "fresh-cache"), "PIP_FIND_LINKS": str(altered)}
    refused = run_reprorun("rerun", old, env=env)
    assert refused.returncode == 1
    assert "reprorun: error: could not install" in refused.stderr
    assert "hash" in refused.stderr.lower()
    assert records_in(tmp_path / "runs") == [old]


def test_rerun_check_compares_outputs(run_reprorun, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    path = write(tmp_path, "s.py", [], """\
import os, sys
open(os.path.join("out", "fixed.txt"), "w").write("always the same")
if os.environ.get("VARY"):
    open(os.path.join("out", "varies.txt"), "w").write(os.environ["VARY"])
""")  # fmt: skip
    old, _ = record_one(run_reprorun, tmp_path, path, extra=("--outputs", "out"), env={"VARY": "one"})
    assert {o["name"] for o in check_crate(old)["outputs"]} == {"out/fixed.txt", "out/varies.txt"}
    same = run_reprorun("rerun", "--check", old, env={"VARY": "one"})
    assert same.returncode == 0, same.stderr
    differs = run_reprorun("rerun", "--check", old, env={"VARY": "two"})
    assert differs.returncode == 1
    assert f"reprorun: error: outputs differ from the record {old.name}:" in differs.stderr
    assert f"{out / 'varies.txt'}: sha256" in differs.stderr
    assert "fixed.txt" not in differs.stderr
    missing = run_reprorun("rerun", "--check", old)
    assert missing.returncode == 1
    assert f"{out / 'varies.txt'}: not written by the rerun" in missing.stderr


def test_rerun_runs_the_recorded_bytes_with_the_recorded_variables(run_reprorun, tmp_path):
    path = write(tmp_path, "s.py", [], "import os, sys\nprint('v1', os.environ.get('PYTHONHASHSEED'), "
                 "os.environ.get('OMP_NUM_THREADS'))\nsys.exit(3)\n")  # fmt: skip
    old, first = record_one(run_reprorun, tmp_path, path, env={"PYTHONHASHSEED": "5"})
    assert first == "v1 5 None\n"
    path.write_text(path.read_text().replace("v1", "v2"))
    again = run_reprorun("rerun", old, env={"OMP_NUM_THREADS": "8"})
    assert again.returncode == 3  # the script's status, passed through
    assert again.stdout == "v1 5 None\n"  # the recorded bytes; PYTHONHASHSEED back, OMP_NUM_THREADS unset
    assert "changed since the run" in again.stderr
    assert run_reprorun(path).stdout.startswith("v2")


def test_rerun_uses_the_recorded_python_version(run_reprorun, tmp_path):
    path = write(tmp_path, "s.py", [], "import sys\nprint(sys.version_info[:2])\n")
    old, first = record_one(run_reprorun, tmp_path, path, extra=("--python", PY312))
    assert first == "(3, 12)\n"
    again = run_reprorun("rerun", old)
    assert (again.returncode, again.stdout) == (0, "(3, 12)\n"), again.stderr


def test_rerun_with_a_python_that_is_not_installed_is_a_clear_error(run_reprorun, tmp_path):
    path = write(tmp_path, "s.py", [], "print('hi')\n")
    old, _ = record_one(run_reprorun, tmp_path, path)
    metadata = old / "ro-crate-metadata.json"
    document = json.loads(metadata.read_text())
    for entity in document["@graph"]:
        if entity.get("propertyID") == "python-version":
            entity["value"] = "3.99.1"
        if entity.get("propertyID") == "python-executable":
            entity["value"] = str(tmp_path / "gone" / "python3.99")
    metadata.write_text(json.dumps(document))
    result = run_reprorun("rerun", old)
    assert result.returncode == 1
    assert result.stderr.startswith("reprorun: error: the record ran Python 3.99.1, which is not available here")
    assert "hint: install Python 3.99.1" in result.stderr
    assert records_in(tmp_path / "runs") == [old]


def test_rerun_errors(run_reprorun, tmp_path):
    assert run_reprorun("rerun", tmp_path / "nothing").returncode == 2
    path = write(tmp_path, "s.py", [], "print('hi')\n")
    old, _ = record_one(run_reprorun, tmp_path, path)
    (old / "script" / "s.py").write_text("print('tampered')\n")
    tampered = run_reprorun("rerun", old)
    assert tampered.returncode == 2
    assert "does not match the sha256 the record names" in tampered.stderr
    by_id = run_reprorun("rerun", old.name, env={"REPRORUN_RECORD": str(tmp_path / "runs")})
    assert by_id.returncode == 2 and "does not match" in by_id.stderr  # found by its id in the configured folder
    assert records_in(tmp_path / "runs") == [old]
