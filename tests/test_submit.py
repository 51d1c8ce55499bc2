"""`reprorun submit` and `export --format slurm` up to the point of submission: no cluster needed.

What happens on a real Slurm is in tests/test_submit_slurm.py.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = """\
#!/usr/bin/env reprorun
# /// script
# dependencies = ["alpha"]
# ///
#SBATCH --time=5
import sys
print(sys.argv[1:])
"""


def write(tmp_path: Path, text: str = SCRIPT, name: str = "analysis.py") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def tree(root: Path) -> dict[str, tuple[int, int]]:
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def test_dry_run_prints_the_batch_script_and_writes_nothing(run_reprorun, tmp_path, cache_dir) -> None:
    script = write(tmp_path)
    (tmp_path / "rows.csv").write_text("name\nfirst\nsecond one\n")
    proc = run_reprorun("submit", "--dry-run", "--each", "rows.csv", "--sbatch", "mem=1G", script, "--in={name}",
                        "{task}", cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert text.startswith("#!/bin/bash\n")
    assert "#SBATCH --time=5\n" in text and "#SBATCH --array=0-1\n#SBATCH --mem=1G\n" in text
    assert "  0) set -- --in=first 0 ;;\n" in text
    assert "  1) set -- '--in=second one' 1 ;;\n" in text
    exec_line = text.splitlines()[-1]
    words = shlex.split(exec_line)
    assert words[0] == "exec" and words[2:4] == ["--offline", "--python"]
    assert words[5].startswith(str(cache_dir / "snapshots")) and words[5].endswith("/src/analysis.py")
    assert words[6] == "$@"
    assert not (cache_dir / "envs").exists()  # nothing built
    assert not (cache_dir / "snapshots").exists()  # nothing written


def test_export_slurm_is_the_dry_run_batch_script(run_reprorun, tmp_path) -> None:
    script = write(tmp_path)
    dry = run_reprorun("submit", "--dry-run", script, cwd=tmp_path)
    exported = run_reprorun("export", "--format", "slurm", script, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == dry.stdout


def test_lock_mode_and_config_reach_the_tasks(run_reprorun, tmp_path) -> None:
    script = write(tmp_path)
    proc = run_reprorun("submit", "--dry-run", script, cwd=tmp_path, env={"REPRORUN_LOCK": "mkdir"})
    assert "\nexport REPRORUN_LOCK=mkdir\n" in proc.stdout
    assert "REPRORUN_CONFIG" not in proc.stdout


def test_fixed_arguments_are_quoted_in_the_batch_script(run_reprorun, tmp_path) -> None:
    script = write(tmp_path)
    proc = run_reprorun("submit", "--dry-run", script, "a b", "$HOME", "{not_a_placeholder}", cwd=tmp_path)
    assert proc.stdout.splitlines()[-1].endswith(" 'a b' '$HOME' '{not_a_placeholder}'")


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({"rows.csv": "name\nx\n"}, ["--each", "rows.csv", "S", "{nmae}"],
         "reprorun: error: unknown placeholder {nmae} in '{nmae}'\nhint: the placeholders are {name}, {task}\n"),
        ({"rows.csv": "a,b\n1\n"}, ["--each", "rows.csv", "S"], "rows.csv:2: 1 values, but the header has 2 columns"),
        ({}, ["--each", "absent.csv", "S"], "reprorun: error: absent.csv: no such file\n"),
        ({"rows.csv": "a\n1\n"}, ["--each", "rows.csv", "--array", "0-3", "S"], "cannot be combined with --array"),
        ({}, ["--include", "../elsewhere", "S"], "--include ../elsewhere: not inside the script's folder"),
        ({}, ["--include", "missing.txt", "S"], "--include missing.txt: no such file or folder"),
        ({}, ["--sbatch=--comment=a\nb", "S"], "an sbatch option must be one non-empty line"),
        ({"bad.py": "#!/bin/sh\n#SBATCH --x='open\n"}, ["bad.py"], "bad.py:2: unmatched ' in an #SBATCH line"),
        ({}, ["-"], "reprorun: error: submit needs a script file, not standard input\n"),
    ],
)
def test_bad_input_is_an_error_before_anything_is_built_or_written(
    run_reprorun, tmp_path, cache_dir, files: dict[str, str], args: list[str], message: str
) -> None:
    write(tmp_path)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    env = fake_sbatch(tmp_path, f"touch {tmp_path}/sbatch-was-called\necho 1\n")
    before = tree(tmp_path), tree(cache_dir)
    argv = ["analysis.py" if a == "S" else a for a in args]
    proc = run_reprorun("submit", *argv, cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert proc.stdout == ""
    assert (tree(tmp_path), tree(cache_dir)) == before  # no env, no snapshot, no batch script


def test_no_sbatch_on_path_is_said_before_building(run_reprorun, reprorun_exe, tmp_path, cache_dir) -> None:
    script = write(tmp_path)
    proc = run_reprorun("submit", script, cwd=tmp_path, env={"PATH": str(reprorun_exe.parent)})
    assert proc.returncode == 1
    assert "reprorun: error: sbatch is not on PATH: this machine cannot submit to Slurm" in proc.stderr
    assert "hint: run reprorun submit on the cluster's login node" in proc.stderr
    assert not (cache_dir / "envs").exists()


def fake_sbatch(tmp_path: Path, body: str) -> dict[str, str]:
    """A stand-in `sbatch` on PATH, for the checks made before sbatch is even run."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    path = folder / "sbatch"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def test_a_snapshot_folder_that_cannot_be_written_is_an_error(run_reprorun, tmp_path, cache_dir) -> None:
    script = write(tmp_path)
    (tmp_path / "a-file").write_text("")
    env = fake_sbatch(tmp_path, "echo 1\n")
    proc = run_reprorun("submit", "--snapshot-dir", tmp_path / "a-file" / "snaps", script, cwd=tmp_path, env=env)
    assert proc.returncode == 2
    assert f"the snapshot folder {tmp_path}/a-file/snaps cannot be written: {tmp_path}/a-file is not a folder" in proc.stderr  # noqa: E501
    assert not (cache_dir / "envs").exists()


def test_a_read_only_snapshot_folder_is_an_error(run_reprorun, reprorun_exe, tmp_path, cache_dir) -> None:
    script = write(tmp_path)
    snaps = tmp_path / "snaps"
    snaps.mkdir()
    env = {**os.environ, **fake_sbatch(tmp_path, "echo 1\n")}
    ro = f"mount --bind {snaps} {snaps} && mount -o remount,ro,bind {snaps} && "
    command = ro + shlex.join([str(reprorun_exe), "submit", "--snapshot-dir", str(snaps), str(script)])
    proc = subprocess.run(["unshare", "-m", "sh", "-c", command], capture_output=True, text=True, env=env,
                          cwd=tmp_path, check=False)  # fmt: skip
    if "mount" in proc.stderr and "reprorun" not in proc.stderr:
        pytest.skip(f"cannot mount a folder read-only here: {proc.stderr.strip()}")
    assert proc.returncode == 2, proc.stderr
    assert f"reprorun: error: the snapshot folder {snaps} cannot be written: {snaps} is not writable" in proc.stderr
    assert not (cache_dir / "envs").exists()


def test_a_failed_build_submits_nothing(run_reprorun, tmp_path, cache_dir) -> None:
    script = write(tmp_path, SCRIPT.replace('"alpha"', '"no-such-package"'))
    env = fake_sbatch(tmp_path, f"touch {tmp_path}/sbatch-was-called\necho 1\n")
    proc = run_reprorun("submit", script, cwd=tmp_path, env=env)
    assert proc.returncode == 1
    assert "reprorun: error:" in proc.stderr
    assert not (tmp_path / "sbatch-was-called").exists()
    assert not (cache_dir / "snapshots").exists()


def test_node_local_cache_is_warned_about(run_reprorun, tmp_path, cache_dir) -> None:
    script = write(tmp_path)
    proc = run_reprorun("submit", "--dry-run", script, cwd=tmp_path)
    assert f"reprorun: warning: the cache {cache_dir} is on a node-local path: compute nodes will not see it" in proc.stderr  # noqa: E501


def test_submit_writes_snapshot_batch_script_and_warm_index(run_reprorun, tmp_path, cache_dir) -> None:
    script = write(tmp_path)
    (tmp_path / "helpers.py").write_text("X = 1\n")
    env = fake_sbatch(tmp_path, 'echo "$@" > "$(dirname "$0")/args"\necho "42;cluster"\n')
    proc = run_reprorun("submit", "--include", "helpers.py", script, "x", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "42\n"
    (folder,) = (cache_dir / "snapshots").iterdir()
    assert (folder / "src" / "analysis.py").read_text() == SCRIPT
    assert (folder / "src" / "helpers.py").read_text() == "X = 1\n"
    (batch_file,) = folder.glob("batch-*.sh")
    assert (tmp_path / "bin" / "args").read_text() == f"--parsable {batch_file}\n"
    assert f"batch script {batch_file}" in proc.stderr
    (build,) = (cache_dir / "envs").iterdir()
    assert str(folder / "src" / "analysis.py") in (cache_dir / "used" / f"{build.name}.scripts").read_text()
    assert (cache_dir / "used" / f"{build.name}.reserved").stat().st_mtime > time.time() + 86400  # kept from prune
    assert len(list((cache_dir / "index").iterdir())) == 1  # the warm entry of the snapshot's path
    script.write_text(SCRIPT + "# edited\n")
    again = run_reprorun("submit", "--include", "helpers.py", script, "x", cwd=tmp_path, env=env)
    assert again.returncode == 0
    assert len(list((cache_dir / "snapshots").iterdir())) == 2  # a new snapshot; the first one untouched
    assert (folder / "src" / "analysis.py").read_text() == SCRIPT
