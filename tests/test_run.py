"""`reprorun SCRIPT`: real envs, real pip, the installed command in subprocesses (issue 3)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scriptfiles import PIP, script

pytestmark = pytest.mark.slow


def builds(cache_dir: Path) -> list[str]:
    """Names of the env builds in the cache (complete or not)."""
    envs = cache_dir / "envs"
    return sorted(p.name for p in envs.iterdir()) if envs.is_dir() else []


def test_first_run_builds_second_reuses_without_pip(run_reprorun, tmp_path, cache_dir, wheelhouse):
    path = script(tmp_path, "s.py", ["beta"], "import alpha, beta\nprint('alpha', alpha.__version__)\n")
    own = tmp_path / "wheels"  # pip's find-links is part of the key: the same folder, emptied below
    shutil.copytree(wheelhouse, own)
    env = {**PIP, "PIP_FIND_LINKS": str(own)}
    first = run_reprorun(path, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "alpha 2.0\n"
    assert "creating an environment" in first.stderr
    assert len(builds(cache_dir)) == 1
    # No package left in the source: a second run that called pip would fail.
    shutil.rmtree(own)
    own.mkdir()
    second = run_reprorun(path, env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout == "alpha 2.0\n"
    assert second.stderr == ""  # a warm run prints nothing of its own
    assert len(builds(cache_dir)) == 1


def test_cold_path_reuse_also_skips_pip(run_reprorun, tmp_path, cache_dir):
    path = script(tmp_path, "s.py", ["alpha"], "print('ok')\n")
    assert run_reprorun(path, env=PIP).returncode == 0
    # pip refuses to start with this setting, which is not part of the key: any pip call would fail.
    again = run_reprorun(path, env={**PIP, "REPRORUN_WARM": "0", "PIP_DEFAULT_TIMEOUT": "never"})
    assert (again.returncode, again.stdout, again.stderr) == (0, "ok\n", "")


def test_equivalent_blocks_share_one_env(run_reprorun, tmp_path, cache_dir):
    one = script(tmp_path, "one.py", ["Foo_Bar", "alpha>=1,<3"], "print('one')\n")
    other_dir = tmp_path / "elsewhere"
    other_dir.mkdir()
    two = script(other_dir, "two.py", ["alpha <3, >=1", "foo-bar"], "print('two')\n")
    assert run_reprorun(one, env=PIP).stdout == "one\n"
    result = run_reprorun(two, env=PIP)
    assert result.stdout == "two\n"
    assert "creating" not in result.stderr
    assert len(builds(cache_dir)) == 1


def test_different_requirement_or_interpreter_gets_another_env(run_reprorun, tmp_path, cache_dir):
    one = script(tmp_path, "one.py", ["alpha==1.0"], "import alpha; print(alpha.__version__)\n")
    two = script(tmp_path, "two.py", ["alpha==2.0"], "import alpha; print(alpha.__version__)\n")
    assert run_reprorun(one, env=PIP).stdout == "1.0\n"
    assert run_reprorun(two, env=PIP).stdout == "2.0\n"
    assert len(builds(cache_dir)) == 2
    other = run_reprorun("--python", sys.executable, one, env=PIP)
    assert other.stdout == "1.0\n"
    keys = {json.loads((cache_dir / "envs" / b / "reprorun-key.json").read_text())["python"]["executable"]
            for b in builds(cache_dir)}  # fmt: skip
    assert os.path.realpath(sys.executable) in keys


def test_refresh_builds_a_new_env_and_leaves_the_old_one(run_reprorun, tmp_path, cache_dir):
    path = script(tmp_path, "s.py", ["alpha"], "import sys; print(sys.prefix)\n")
    old = run_reprorun(path, env=PIP).stdout.strip()
    new = run_reprorun("--refresh", path, env=PIP).stdout.strip()
    assert old != new
    assert Path(old).is_dir() and (Path(old) / "reprorun-complete").is_file()
    assert run_reprorun(path, env=PIP).stdout.strip() == new


def test_eight_processes_build_exactly_one_env(reprorun_exe, tmp_path, cache_dir):
    path = script(tmp_path, "s.py", ["gamma"], "import gamma, epsilon; print('ready', gamma.__version__)\n")
    env = {**os.environ, **PIP}
    procs = [
        subprocess.Popen(
            [str(reprorun_exe), str(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(8)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [r[1] for r in results]
    assert all(out == "ready 1.0\n" for out, _ in results)
    assert sum("creating an environment" in err for _, err in results) == 1
    assert len(builds(cache_dir)) == 1


def test_build_killed_during_pip_leaves_nothing_used(reprorun_exe, tmp_path, cache_dir):
    path = script(tmp_path, "s.py", ["gamma"], "print('done')\n")
    env = {**os.environ, **PIP}
    proc = subprocess.Popen([str(reprorun_exe), str(path)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 60
    # pyvenv.cfg exists once virtualenv is done: from then on pip is running.
    while not any((cache_dir / "envs" / b / "pyvenv.cfg").exists() for b in builds(cache_dir)):
        assert time.monotonic() < deadline, "the build never started"
        assert proc.poll() is None, "the build ended before it could be killed"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    (half,) = builds(cache_dir)
    assert not (cache_dir / "envs" / half / "reprorun-complete").exists()
    rerun = subprocess.run([str(reprorun_exe), str(path)], env=env, capture_output=True, text=True, check=False)
    assert (rerun.returncode, rerun.stdout) == (0, "done\n"), rerun.stderr
    assert half not in builds(cache_dir)  # the interrupted build was discarded, not used


@pytest.mark.parametrize(
    ("deps", "needle"),
    [(["nosuchpkg"], "nosuchpkg"), (["alpha==9.9"], "alpha==9.9"), (["broken"], "broken")],
    ids=["no-such-package", "no-matching-version", "broken-wheel"],
)
def test_failed_install_is_one_clear_error_and_leaves_nothing(run_reprorun, tmp_path, cache_dir, deps, needle):
    path = script(tmp_path, "s.py", deps, "print('never')\n")
    result = run_reprorun(path, env=PIP)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "reprorun: error: could not install" in result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) <= 10
    assert builds(cache_dir) == []
    assert not list((cache_dir / "keys").iterdir())


def test_failed_install_verbose_shows_pip_output(run_reprorun, tmp_path):
    path = script(tmp_path, "s.py", ["nosuchpkg"], "")
    result = run_reprorun("-v", path, env=PIP)
    assert result.returncode == 1
    assert "Looking in links" in result.stderr or "nosuchpkg" in result.stderr


def test_missing_interpreter(run_reprorun, tmp_path, cache_dir):
    path = script(tmp_path, "s.py", [], "print('never')\n")
    result = run_reprorun("--python", "3.99", path)
    assert result.returncode == 1
    assert "no Python 3.99 found" in result.stderr
    result = run_reprorun("--python", str(tmp_path / "nope" / "python"), path)
    assert result.returncode == 1
    assert "interpreter not found" in result.stderr
    needs = script(tmp_path, "n.py", [], "", extra='requires-python = ">=3.99"')
    result = run_reprorun(needs)
    assert result.returncode == 1
    assert "no Python satisfies requires-python '>=3.99'; found: " in result.stderr
    assert builds(cache_dir) == []


def test_offline_without_env_fails_fast(run_reprorun, tmp_path, cache_dir):
    path = script(tmp_path, "s.py", ["alpha"], "print('never')\n")
    result = run_reprorun("--offline", path, env=PIP)
    assert result.returncode == 1
    assert "--offline forbids building it" in result.stderr
    assert "reprorun sync" in result.stderr
    assert builds(cache_dir) == []
    assert run_reprorun(path, env=PIP).returncode == 0
    offline = run_reprorun("--offline", path, env={**PIP, "REPRORUN_WARM": "0"})
    assert (offline.returncode, offline.stdout) == (0, "never\n")


def test_exit_status_and_signals_pass_through(run_reprorun, tmp_path):
    exits = script(tmp_path, "e.py", [], "import sys; sys.exit(7)\n")
    assert run_reprorun(exits).returncode == 7
    killed = script(tmp_path, "k.py", [], "import os, signal; os.kill(os.getpid(), signal.SIGTERM)\n")
    assert run_reprorun(killed).returncode == -signal.SIGTERM


@pytest.mark.parametrize("warm", ["1", "0"])
def test_ctrl_c_reaches_the_script(reprorun_exe, tmp_path, warm):
    path = script(
        tmp_path,
        "s.py",
        [],
        """\
        import os, signal, sys, time
        def stop(signum, frame):  # past sys.stdout: the signal may come while "ready" is being flushed
            os.write(1, b"got SIGINT\\n")
            sys.exit(0)
        signal.signal(signal.SIGINT, stop)
        print("ready", flush=True)
        time.sleep(60)
    """,
    )
    env = {**os.environ, "REPRORUN_WARM": warm}
    subprocess.run([str(reprorun_exe), "sync", str(path)], env=env, check=True, capture_output=True)  # build only
    proc = subprocess.Popen([str(reprorun_exe), str(path)], env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGINT)  # the same pid: reprorun became the script
    out, _ = proc.communicate(timeout=30)
    assert (proc.returncode, out) == (0, "got SIGINT\n")


def test_stdin_arguments_and_environment(run_reprorun, tmp_path, cache_dir):
    path = script(
        tmp_path,
        "s.py",
        ["alpha"],
        """\
        import json, os, subprocess, sys
        data = sys.stdin.read()
        child = subprocess.run([sys.executable, "-c", "import alpha; print(alpha.__version__)"],
                               capture_output=True, text=True, check=True).stdout.strip()
        print(json.dumps({"argv": sys.argv, "stdin": data, "exe": sys.executable, "prefix": sys.prefix,
                          "venv": os.environ.get("VIRTUAL_ENV"), "path0": os.environ["PATH"].split(os.pathsep)[0],
                          "child": child, "user_site": __import__("site").ENABLE_USER_SITE}))
    """,
    )
    args = ["a b", "ünïcødé ✓", "--flag", "-v", ""]
    result = run_reprorun(path, *args, input="from stdin\n", env=PIP)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["argv"] == [str(path), *args]
    assert seen["stdin"] == "from stdin\n"
    assert seen["venv"] == seen["prefix"]
    assert seen["exe"] == os.path.join(seen["prefix"], "bin", "python")
    assert seen["path0"] == os.path.join(seen["prefix"], "bin")
    assert seen["child"] == "2.0"
    assert seen["user_site"] is False
    assert Path(seen["prefix"]).parent == cache_dir / "envs"


def test_script_from_stdin(run_reprorun, tmp_path):
    source = "# /// script\n# dependencies = ['alpha']\n# ///\nimport alpha, sys\nprint(sys.argv, alpha.__version__)\n"
    result = run_reprorun("-", "x", "y z", input=source, env=PIP)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "['-', 'x', 'y z'] 2.0\n"
    failing = run_reprorun("-", input="\n\nraise SystemExit(4)\n")
    assert failing.returncode == 4
    error = run_reprorun("-", input="x = 1\n1/0\n")
    assert 'File "<stdin>", line 2' in error.stderr


def test_script_without_block_runs_in_an_empty_isolated_env(run_reprorun, tmp_path, cache_dir):
    path = script(
        tmp_path, "plain.py", None, "import sys, site\nprint(sys.prefix != sys.base_prefix, site.ENABLE_USER_SITE)\n"
    )
    result = run_reprorun(path)
    assert (result.returncode, result.stdout) == (0, "True False\n"), result.stderr
    (build,) = builds(cache_dir)
    key = json.loads((cache_dir / "envs" / build / "reprorun-key.json").read_text())
    assert key["requirements"] == []


@pytest.mark.parametrize("extra", [[], ["--offline"]], ids=["plain", "env-S-offline"])
def test_shebang(reprorun_exe, tmp_path, extra):
    line = "#!/usr/bin/env reprorun" if not extra else "#!/usr/bin/env -S reprorun --offline"
    path = tmp_path / "analysis.py"
    body = "import sys, alpha\nprint(sys.argv[1:], alpha.__version__)\n"
    path.write_text(f"{line}\n# /// script\n# dependencies = ['alpha']\n# ///\n{body}")
    path.chmod(0o755)
    env = {**os.environ, **PIP, "PATH": f"{reprorun_exe.parent}{os.pathsep}{os.environ['PATH']}"}
    if extra:  # --offline needs the env prepared first
        subprocess.run([str(reprorun_exe), str(path)], env=env, check=True, capture_output=True)
    result = subprocess.run(
        ["./analysis.py", "--flag"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (0, "['--flag'] 2.0\n"), result.stderr


def test_uv_installer_gives_the_same_env(run_reprorun, tmp_path, cache_dir):
    path = script(
        tmp_path,
        "s.py",
        ["gamma"],
        "import importlib.metadata as m; print(sorted(d.metadata['Name'] for d in m.distributions()))\n",
    )
    with_uv = run_reprorun("--installer", "uv", path)
    assert with_uv.returncode == 0, with_uv.stderr
    assert "(uv)" in with_uv.stderr
    with_pip = run_reprorun("--installer", "pip", "--refresh", path)
    assert with_pip.returncode == 0, with_pip.stderr
    assert with_uv.stdout == with_pip.stdout == "['alpha', 'beta', 'epsilon', 'gamma']\n"


def test_env_removed_by_hand_is_rebuilt(run_reprorun, tmp_path, cache_dir):
    import shutil

    path = script(tmp_path, "s.py", ["alpha"], "print('ok')\n")
    assert run_reprorun(path, env=PIP).returncode == 0
    (build,) = builds(cache_dir)
    shutil.rmtree(cache_dir / "envs" / build)
    again = run_reprorun(path, env=PIP)
    assert (again.returncode, again.stdout) == (0, "ok\n"), again.stderr
    assert "creating an environment" in again.stderr


def test_changed_block_uses_another_env(run_reprorun, tmp_path, cache_dir):
    path = script(tmp_path, "s.py", ["alpha==1.0"], "import alpha; print(alpha.__version__)\n")
    assert run_reprorun(path, env=PIP).stdout == "1.0\n"
    path.write_text(path.read_text().replace("alpha==1.0", "alpha==2.0"))
    assert run_reprorun(path, env=PIP).stdout == "2.0\n"


def test_invalid_block_is_exit_2_and_builds_nothing(run_reprorun, tmp_path, cache_dir):
    path = tmp_path / "bad.py"
    path.write_text("# /// script\n# dependencies = ['a b c']\n# ///\n")
    result = run_reprorun(path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"reprorun: error: {path}:2: invalid requirement")
    assert builds(cache_dir) == []


def test_warm_run_imports_nothing_heavy(tmp_path, reprorun_exe):
    path = script(tmp_path, "s.py", ["alpha"], "print('hello')\n")
    env = {**os.environ, **PIP}
    subprocess.run([str(reprorun_exe), str(path)], env=env, check=True, capture_output=True)
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "reprorun", str(path)], env=env,
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert result.stdout == "hello\n"
    imported = {
        line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")
    }
    assert "reprorun.warm" in imported
    heavy = {"virtualenv", "packaging", "tomllib", "tomli", "filelock", "platformdirs", "reprorun.cli", "argparse"}
    assert not imported & heavy, imported & heavy
