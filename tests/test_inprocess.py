"""The one-interpreter launch must be observably identical to exec (issue 7).

Every probe script runs twice against the same cached env: once with `REPRORUN_LAUNCH=exec` and
once with the default, which runs the script inside reprorun's own process when it can. reprorun
runs from a plain venv of the same base interpreter whose only additions are path entries (no
import hook), which is the condition for the in-process launch; /proc/self/cmdline proves which
launch actually happened.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

import reprorun

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform != "linux", reason="uses /proc")]


# How users install reprorun, as far as the start of its interpreter can tell (issue 17):
# - "plain": a venv that only has path entries (what pipx and `uv tool install` make: no `.pth`
#   file with code in reprorun's own site-packages; benchmarks/run.py checks the real ones);
# - "venv+pip": the README's `python3 -m venv` + `pip install`, whose setuptools brings
#   `distutils-precedence.pth`, an import hook loaded at every start (3.10 and 3.11 bundle it);
# - "pipx": pipx's venv as "plain", started as pipx's launchers start it: pipx 1.18 writes
#   `#!VENV/bin/python -E` into the commands it exposes, so reprorun runs with the environment
#   ignored, the env's interpreter would not: the launch must exec (sys.flags differ otherwise).
LAUNCHERS = ["plain", "pipx", "venv+pip-3.11", "venv+pip-3.10"]
FLAGS: dict[Path, list[str]] = {}  # a launcher's interpreter -> the options its command line adds
PYENV = Path("/root/.pyenv/versions")


def _base_python(kind: str) -> str:
    if kind.endswith("3.10"):
        found = sorted(PYENV.glob("3.10.*/bin/python3.10")) if PYENV.is_dir() else []
        found = found or [Path(p) for p in filter(None, [shutil.which("python3.10")])]
        if not found:
            if os.environ.get("CI"):
                pytest.fail("CI needs a Python 3.10 for the venv+pip-3.10 launcher")
            pytest.skip("no Python 3.10 here")
        return str(found[-1])
    assert sys.version_info[:2] == (3, 11) or kind == "plain", "the 3.11 launcher needs the suite on 3.11"
    return getattr(sys, "_base_executable", sys.executable)


@pytest.fixture(scope="module", params=LAUNCHERS)
def launcher(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv that sees reprorun and its dependencies through a `.pth`, made as `kind` says."""
    kind: str = request.param
    folder = tmp_path_factory.mktemp("launcher")
    venv = folder / "venv"
    base = _base_python(kind)
    with_pip = ["--without-pip"] if kind in ("plain", "pipx") else []
    subprocess.run([base, "-m", "venv", *with_pip, str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip())  # fmt: skip
    if kind == "pipx":
        FLAGS[python] = ["-E"]
    elif kind != "plain":  # the premise: pip's setuptools put its hook there
        assert "_distutils_hack" in (purelib / "distutils-precedence.pth").read_text()
    source = Path(reprorun.__file__).resolve().parent.parent
    lines = [str(source), sysconfig.get_paths()["purelib"]]
    if kind.endswith("3.10"):
        # reprorun's dependencies are pure Python, so this suite's own copies serve 3.10 too,
        # except tomli (3.11 has tomllib): pip vendors the very same tomli, offline.
        import pip

        vendored = folder / "tomli-for-3.10"
        shutil.copytree(Path(pip.__file__).parent / "_vendor" / "tomli", vendored / "tomli")
        lines.append(str(vendored))
    (purelib / "reprorun-test.pth").write_text("\n".join(lines) + "\n")
    return python


@pytest.fixture
def launch(launcher: Path, tmp_path: Path):
    """Run a probe with a given launch mode; the first call builds the env."""

    def run(path: Path, mode: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "REPRORUN_LAUNCH": mode}
        return subprocess.run(
            [str(launcher), *FLAGS.get(launcher, []), "-m", "reprorun", "--python", str(launcher), str(path),
             "arg one", "ü"],
            cwd=tmp_path, env=env, capture_output=True, text=True, input=stdin, check=False, timeout=120,
        )  # fmt: skip

    return run


def probe(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "probe.py"
    header = "# /// script\n# dependencies = ['alpha']\n# ///\n"
    path.write_text(header + textwrap.dedent(body))
    return path


def both(launch, path: Path, stdin: str = "") -> tuple[subprocess.CompletedProcess[str], ...]:
    """The probe run under exec, and in-process; the in-process launch twice: the first compiles
    the script and keeps its code (used/<build>.code-*), the second runs that kept code."""
    launch(path, "exec")  # build the env (and the warm index) first
    exec_run = launch(path, "exec", stdin)
    compiled = launch(path, "auto", stdin)
    auto_run = launch(path, "auto", stdin)
    assert_same(compiled, auto_run)
    return exec_run, auto_run


def assert_same(exec_run, auto_run) -> None:
    assert (auto_run.returncode, auto_run.stdout, auto_run.stderr) == (
        exec_run.returncode, exec_run.stdout, exec_run.stderr,
    )  # fmt: skip


def test_the_default_launch_really_is_in_process(launch, launcher, tmp_path):
    path = probe(tmp_path, "print(open('/proc/self/cmdline').read().split(chr(0))[1])\n")
    exec_run, auto_run = both(launch, path)
    assert exec_run.stdout.strip() == str(path)  # ENV/bin/python probe.py
    if FLAGS.get(launcher):  # pipx's `-E`: refused, as it must be
        assert auto_run.stdout.strip() == str(path)
    else:
        assert auto_run.stdout.strip() == "-m"  # still the process that started as `python -m reprorun`


PROBES = {
    "interpreter-state": """\
        '''The probe's docstring.'''
        import json, os, site, sys, sysconfig
        import alpha
        main = sys.modules["__main__"]
        print(json.dumps({
            "executable": sys.executable, "prefix": sys.prefix, "exec_prefix": sys.exec_prefix,
            "base_prefix": sys.base_prefix, "base_executable": getattr(sys, "_base_executable", None),
            "path": sys.path, "site": site.getsitepackages(), "user_site": site.ENABLE_USER_SITE,
            "argv": sys.argv, "orig_argv": sys.orig_argv, "flags": str(sys.flags),
            "venv": os.environ.get("VIRTUAL_ENV"), "path_head": os.environ["PATH"].split(os.pathsep)[0],
            "main_attrs": sorted(vars(main)), "name": __name__, "file": __file__, "doc": __doc__,
            "package": __package__, "spec": repr(__spec__), "cached": main.__cached__,
            "loader": type(__loader__).__name__, "loader_path": __loader__.path,
            "purelib": sysconfig.get_paths()["purelib"], "alpha": alpha.__file__,
            "builtins": type(__builtins__).__name__,
            "meta_path": [type(f).__name__ for f in sys.meta_path],
            "non_stdlib": sorted(n for n in sys.modules if n.partition(".")[0] not in sys.stdlib_module_names),
        }, indent=1))
    """,
    "pickle-class-from-script": """\
        import pickle
        class Point:
            def __init__(self, x): self.x = x
        print(pickle.loads(pickle.dumps(Point(3))).x, Point.__module__, Point.__qualname__)
    """,
    "multiprocessing-spawn": """\
        import multiprocessing as mp
        def square(x):
            import alpha
            return x * x, alpha.__version__
        if __name__ == "__main__":
            with mp.get_context("spawn").Pool(2) as pool:
                print(pool.map(square, [1, 2, 3]))
    """,
    "subprocess-of-sys-executable": """\
        import subprocess, sys
        out = subprocess.run([sys.executable, "-c", "import sys, alpha; print(sys.prefix, alpha.__version__)"],
                             capture_output=True, text=True, check=True).stdout
        print(out.strip() == sys.prefix + " 2.0", out)
    """,
    "traceback": """\
        def inner():
            raise ValueError("boom")
        def outer():
            inner()
        outer()
    """,
    "chained-traceback": """\
        try:
            {}["missing"]
        except KeyError as exc:
            raise RuntimeError("while handling") from exc
    """,
    "inspect-getsource-and-stack": """\
        import inspect
        def documented():
            return 42
        print(inspect.getsource(documented))
        def where():
            return [(f.function, f.lineno) for f in inspect.stack() if f.filename == __file__]
        print(where())
        # Known difference (docs/performance.md): frames *below* <module> are reprorun's
        # launcher in-process, so only the script's own frames are compared here.
    """,
    "warnings": """\
        import warnings
        warnings.warn("careful")
        def deprecated():
            warnings.warn("old", DeprecationWarning, stacklevel=2)
        deprecated()
        warnings.warn("from module", stacklevel=1)
        warnings.warn("past the top of the stack", stacklevel=2)
    """,
    "atexit-and-exit-status": """\
        import atexit, sys
        atexit.register(lambda: print("atexit ran", flush=True))
        print("body", flush=True)
        sys.exit(5)
    """,
    "system-exit-with-message": """\
        raise SystemExit("stopped: bad input")
    """,
    "uncaught-keyboard-interrupt": """\
        import atexit
        atexit.register(lambda: print("atexit ran", flush=True))
        raise KeyboardInterrupt
    """,
    "killed-by-signal": """\
        import os, signal
        print("before", flush=True)
        os.kill(os.getpid(), signal.SIGTERM)
    """,
    "stdin": """\
        import sys
        print(repr(sys.stdin.read()), sys.stdin.isatty())
    """,
    "syntax-error": """\
        print("never"
    """,
    "non-daemon-thread-finishes": """\
        import threading, time
        def work():
            time.sleep(0.2)
            print("thread done", flush=True)
        threading.Thread(target=work).start()
        print("main done", flush=True)
    """,
}


@pytest.mark.parametrize("name", list(PROBES))
def test_probe_is_identical_both_ways(launch, tmp_path, name):
    exec_run, auto_run = both(launch, probe(tmp_path, PROBES[name]), stdin="piped input\n")
    assert_same(exec_run, auto_run)
    if name == "uncaught-keyboard-interrupt":
        assert exec_run.returncode == -signal.SIGINT
        assert "atexit ran" in exec_run.stdout
    if name == "killed-by-signal":
        assert exec_run.returncode == -signal.SIGTERM
    if name == "traceback":
        assert "reprorun" not in auto_run.stderr.replace(str(tmp_path), "")


def test_a_signal_from_outside_reaches_the_script(launcher, tmp_path):
    path = probe(tmp_path, """\
        import signal, sys, time
        import os  # the handler writes past sys.stdout: the signal may come while "ready" is being flushed
        signal.signal(signal.SIGTERM, lambda *a: (os.write(1, b"got SIGTERM\\n"), sys.exit(3)))
        print("ready", flush=True)
        time.sleep(60)
    """)
    argv = [str(launcher), *FLAGS.get(launcher, []), "-m", "reprorun", "--python", str(launcher), str(path)]
    subprocess.run([*argv[:-1], "sync", str(path)], check=True, capture_output=True)  # build, do not run
    for mode in ("exec", "auto"):
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env={**os.environ, "REPRORUN_LAUNCH": mode})
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert (proc.returncode, out) == (3, "got SIGTERM\n"), mode
