"""Run records: a recorded run writes a valid Process Run Crate naming what ran, where, with what."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crates import check_crate, records_in
from scriptfiles import PIP, script

pytestmark = pytest.mark.slow


def only_record(folder: Path) -> Path:
    (record,) = records_in(folder)
    return record


def test_recorded_run_writes_a_valid_process_run_crate(run_reprorun, tmp_path, wheelhouse):
    path = script(tmp_path, "analysis.py", ["gamma"], "import sys, gamma\nprint('ran', sys.argv[1:])\n")
    runs = tmp_path / "runs"
    env = {**PIP, "PYTHONHASHSEED": "7", "OMP_NUM_THREADS": "2", "GITHUB_TOKEN": "s3cret", "MY_API_KEY": "k",
           "SLURM_JOB_ID": "4242", "SLURM_ARRAY_TASK_ID": "3", "SLURM_AUTH_TOKEN": "x", "TF_DETERMINISTIC_OPS": "1",
           "TF_VAR_region": "eu", "TF_CLI_CONFIG_FILE": "/home/me/.terraformrc"}  # fmt: skip
    result = run_reprorun("--record", runs, path, "a b", "--flag", env=env)
    assert (result.returncode, result.stdout) == (0, "ran ['a b', '--flag']\n"), result.stderr
    record = only_record(runs)
    assert re.fullmatch(r"\d{8}T\d{6}Z-analysis-[0-9a-f]{6}", record.name), record.name
    assert f"run recorded in {record}" in result.stderr
    facts = check_crate(record)
    data = path.read_bytes()
    assert (record / "script" / "analysis.py").read_bytes() == data
    assert facts["script"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert facts["script"]["size"] == len(data)
    assert facts["script"]["path"] == str(path)
    assert facts["run"]["argv"] == ["a b", "--flag"]
    assert facts["run"]["cwd"] == os.getcwd()
    assert facts["exit"] == {"code": 0, "summary": "exit status 0"}
    # every installed distribution, with the wheel it came from and that wheel's sha256 (pip's report)
    names = {p["name"]: p for p in facts["packages"]}
    assert sorted(names) == ["alpha", "beta", "epsilon", "gamma"]
    gamma = names["gamma"]
    assert gamma["version"] == "1.0"
    wheel = wheelhouse / "gamma-1.0-py3-none-any.whl"
    assert gamma["source"] == wheel.as_uri()
    assert gamma["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    requirements = (record / "requirements.txt").read_text()
    assert f"gamma==1.0 --hash=sha256:{gamma['sha256']}" in requirements
    pylock = (record / "pylock.toml").read_text()
    assert 'lock-version = "1.0"' in pylock and gamma["sha256"] in pylock
    # the env: key and key document as the cache holds them
    document = json.loads((record / "env-key.json").read_text())
    env_path = Path(facts["env"]["path"])
    assert json.loads((env_path / "reprorun-key.json").read_text()) == document == facts["env"]["document"]
    assert facts["env"]["key"] == hashlib.sha256(
        json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    assert facts["env"]["installer"] == "pip"
    # interpreter, machine
    assert facts["python"]["version"] == document["python"]["version"]
    assert facts["python"]["build"].startswith(document["python"]["version"])
    assert facts["machine"]["hostname"] == os.uname().nodename
    assert facts["machine"]["cpu-count"] == os.cpu_count()
    assert facts["machine"]["memory-bytes"] > 0
    assert facts["machine"]["kernel"].startswith(os.uname().release)
    # variables: result-changing ones kept, secret-looking ones never
    variables = facts["variables"]
    assert variables["PYTHONHASHSEED"] == "7" and variables["OMP_NUM_THREADS"] == "2"
    assert variables["SLURM_JOB_ID"] == "4242"
    assert not {"GITHUB_TOKEN", "MY_API_KEY", "SLURM_AUTH_TOKEN"} & set(variables)
    assert variables["TF_DETERMINISTIC_OPS"] == "1"  # TensorFlow's; Terraform's TF_* are not about results
    assert not {"TF_VAR_region", "TF_CLI_CONFIG_FILE"} & set(variables)
    assert "s3cret" not in (record / "ro-crate-metadata.json").read_text()
    assert facts["slurm"] == {"job": "4242", "array-task": "3"}
    assert facts["gpus"] is None  # no nvidia-smi on this machine: absent, not an error
    assert facts["git"] is None  # tmp_path is in no repository


def test_record_output_keeps_stdout_and_stderr_and_still_shows_them(run_reprorun, tmp_path):
    path = script(tmp_path, "s.py", [], "import sys\nprint('to out')\nprint('to err', file=sys.stderr)\n")
    result = run_reprorun("--record", tmp_path / "runs", "--record-output", path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "to out\n"
    assert "\nto err\n" in result.stderr
    record = only_record(tmp_path / "runs")
    assert (record / "stdout.txt").read_text() == "to out\n"
    assert (record / "stderr.txt").read_text() == "to err\n"
    facts = check_crate(record)
    assert set(facts["files"]) >= {"stdout", "stderr"}


def test_outputs_created_or_changed_are_hashed(run_reprorun, tmp_path):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "untouched.txt").write_text("old")
    (out / "changed.txt").write_text("before")
    path = script(tmp_path, "s.py", [], """\
        import pathlib, sys
        out = pathlib.Path(sys.argv[1])
        (out / "changed.txt").write_text("after, longer")
        (out / "sub" / "new.csv").write_text("a,b\\n1,2\\n")
        pathlib.Path(sys.argv[2]).write_text("single")
    """)  # fmt: skip
    single = tmp_path / "single.txt"
    result = run_reprorun("--record", tmp_path / "runs", "--outputs", out, "--outputs", single, path, out, single,
                          cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    facts = check_crate(only_record(tmp_path / "runs"))
    found = {o["name"]: o for o in facts["outputs"]}
    assert sorted(found) == ["out/changed.txt", "out/sub/new.csv", "single.txt"]
    new = out / "sub" / "new.csv"
    assert found["out/sub/new.csv"] == {"name": "out/sub/new.csv", "path": str(new), "size": new.stat().st_size,
                                        "sha256": hashlib.sha256(new.read_bytes()).hexdigest()}  # fmt: skip


def test_git_state_of_the_scripts_repository(run_reprorun, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "remote", "add", "origin", "https://user:tok3n@example.org/r.git"], check=True)
    path = script(repo, "s.py", [], "print('hi')\n")
    subprocess.run([*git, "add", "s.py"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    assert run_reprorun("--record", tmp_path / "runs", path).returncode == 0
    with path.open("a") as handle:
        handle.write("# edited\n")
    assert run_reprorun("--record", tmp_path / "runs", path).returncode == 0
    made = sorted((check_crate(r) for r in records_in(tmp_path / "runs")), key=lambda f: f["run"]["start"])
    clean, dirty = (f["git"] for f in made)
    assert clean == {"repository": str(repo), "commit": head, "branch": "main", "dirty": False, "changed": [],
                     "path": "s.py", "remote": "https://example.org/r.git"}  # fmt: skip
    assert dirty["dirty"] is True and dirty["changed"] == ["s.py"] and dirty["commit"] == head


def test_gpus_from_nvidia_smi_when_present(run_reprorun, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "nvidia-smi"
    # Output in nvidia-smi's formats: the query CSV, and the banner that carries the CUDA version.
    tool.write_text(textwrap.dedent("""\
        #!/bin/sh
        if [ "$1" = "--query-gpu=name,driver_version,memory.total,uuid" ]; then
            echo "NVIDIA A100-SXM4-40GB, 535.104.05, 40960 MiB, GPU-0a1b"
            echo "NVIDIA A100-SXM4-40GB, 535.104.05, 40960 MiB, GPU-2c3d"
        else
            echo "| NVIDIA-SMI 535.104.05   Driver Version: 535.104.05   CUDA Version: 12.2     |"
        fi
    """))  # fmt: skip
    tool.chmod(0o755)
    path = script(tmp_path, "s.py", [], "print('hi')\n")
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    assert run_reprorun("--record", tmp_path / "runs", path, env=env).returncode == 0
    gpus = check_crate(only_record(tmp_path / "runs"))["gpus"]
    assert gpus == [
        {"name": "NVIDIA A100-SXM4-40GB", "driver": "535.104.05", "memory": "40960 MiB", "uuid": uuid, "cuda": "12.2"}
        for uuid in ("GPU-0a1b", "GPU-2c3d")
    ]


@pytest.mark.parametrize("how", ["config", "environment", "block"])
def test_record_setting_from_config_environment_or_block(run_reprorun, tmp_path, how):
    runs = tmp_path / "runs"
    extra = f'[tool.reprorun]\nrecord = "{runs.name}"' if how == "block" else ""
    path = script(tmp_path, "s.py", [], "print('hi')\n", extra=extra)
    env = {}
    if how == "config":
        config = tmp_path / "config.toml"
        config.write_text(f'record = "{runs}"\n')
        env["REPRORUN_CONFIG"] = str(config)
    elif how == "environment":
        env["REPRORUN_RECORD"] = str(runs)
    for _ in range(2):  # the second run would be a warm one: a recorded run never takes that path
        result = run_reprorun(path, env=env)
        assert (result.returncode, result.stdout) == (0, "hi\n"), result.stderr
    assert len(records_in(runs)) == 2
    for record in records_in(runs):
        check_crate(record)
    unrecorded = run_reprorun("--no-record", path, env=env)
    assert unrecorded.returncode == 0 and len(records_in(runs)) == 2


def test_record_without_dir_uses_the_default_folder(run_reprorun, tmp_path):
    path = script(tmp_path, "s.py", [], "print('hi')\n")
    result = run_reprorun("--record", path)
    assert result.returncode == 0, result.stderr
    default = Path(os.environ["XDG_DATA_HOME"]) / "reprorun" / "runs"
    check_crate(only_record(default))


def test_unwritable_record_folder_is_a_warning_and_keeps_the_status(run_reprorun, tmp_path):
    # root writes anywhere, whatever the mode: a file where a folder should be stops root as well
    (tmp_path / "file").write_text("not a folder")
    blocked = tmp_path / "file" / "runs"
    path = script(tmp_path, "s.py", [], "import sys\nprint('ran')\nsys.exit(4)\n")
    for _ in range(2):  # built on the full path, then the recorded warm start
        result = run_reprorun("--record", blocked, path)
        assert (result.returncode, result.stdout) == (4, "ran\n")
        assert result.stderr.count("reprorun: warning: cannot write a run record in") == 1, result.stderr
    vanishing = tmp_path / "readonly"
    vanishing.mkdir()
    # A folder that becomes unwritable during the run: the record fails at its end, the status does not.
    late = script(tmp_path, "late.py", [], f"""\
        import os, shutil, sys
        runs = {str(vanishing)!r}
        for name in os.listdir(runs):
            path = os.path.join(runs, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
        open(os.path.join(runs, "x"), "w").close()
        print('ran')
        sys.exit(5)
    """)  # fmt: skip
    result = run_reprorun("--record", vanishing, late)
    assert (result.returncode, result.stdout) == (5, "ran\n"), result.stderr
    assert "reprorun: warning: could not write the run record" in result.stderr
    assert [n for n in os.listdir(vanishing) if not n.startswith(".python-builds")] == ["x"]  # no half record


def test_stdin_script_is_recorded(run_reprorun, tmp_path):
    source = "import sys\nprint(sys.argv)\n"
    result = run_reprorun("--record", tmp_path / "runs", "-", "x", input=source)
    assert (result.returncode, result.stdout) == (0, "['-', 'x']\n"), result.stderr
    record = only_record(tmp_path / "runs")
    facts = check_crate(record)
    assert (record / "script" / "stdin.py").read_text() == source
    assert facts["script"]["path"] == "-"


def test_record_dir_or_script_after_record(run_reprorun, tmp_path, monkeypatch):
    path = script(tmp_path, "s.py", [], "print('hi')\n")
    monkeypatch.chdir(tmp_path)
    assert run_reprorun("--record", "named", "s.py", cwd=tmp_path).returncode == 0
    assert len(records_in(tmp_path / "named")) == 1
    assert run_reprorun("--record", "s.py", cwd=tmp_path).returncode == 0  # s.py is the script, not a DIR
    assert not (tmp_path / "s.py").is_dir() and path.is_file()


def test_unrecorded_run_imports_no_records_module(tmp_path, reprorun_exe):
    path = script(tmp_path, "s.py", [], "print('hello')\n")
    env = {**os.environ, "REPRORUN_WARM": "0"}
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "reprorun", str(path)], env=env,
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert result.stdout == "hello\n"
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "import time:" in line}
    assert "reprorun.records.command" in imported  # where records go is looked up ...
    assert not {"reprorun.records.recorder", "reprorun.records.supervise"} & imported  # ... no more


def test_recorded_run_of_a_cached_env_starts_without_the_command_line(tmp_path, reprorun_exe):
    """The recorded warm start (records/fast.py): same record as the full path, none of its imports."""
    path = script(tmp_path, "s.py", ["alpha"], "import alpha, sys\nprint(alpha.__version__, sys.argv[1:])\n")
    env = {**os.environ, **PIP}
    runs = tmp_path / "runs"
    full = subprocess.run([str(reprorun_exe), "--record", str(runs), str(path), "x"], env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert "creating an environment" in full.stderr  # built: the full path
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "reprorun", "--record", str(runs),
                             "--outputs", str(tmp_path / "none"), str(path), "x"], env=env, capture_output=True,
                            text=True, check=True)  # fmt: skip
    assert result.stdout == full.stdout == "2.0 ['x']\n"
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "import time:" in line}
    assert "reprorun.records.fast" in imported
    heavy = {"reprorun.cli", "argparse", "packaging", "tomllib", "tomli", "platformdirs", "dataclasses", "uuid"}
    assert not imported & heavy, imported & heavy
    assert "reprorun: run recorded in" in result.stderr
    first, second = sorted((check_crate(r) for r in records_in(runs)), key=lambda f: f["run"]["start"])
    for key in ("script", "env", "python", "packages", "machine", "variables", "git", "slurm", "gpus"):
        assert first[key] == second[key], key
    assert first["run"]["argv"] == second["run"]["argv"] == ["x"]
    assert second["outputs-paths"] == [str(tmp_path / "none")]
