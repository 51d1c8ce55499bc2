"""The in-process launch keeps each script's compiled code (issue 17).

The builtin compile() builds every `ast` node type on its first call, about a third of what a
warm in-process start cost beyond a bare `python` start. So the full path (a run that builds or
checks the env, `sync`, `submit`) compiles the script and saves the code in
`used/<build>.code-<path hash>` (one file per script and env), and in-process starts load it, as
long as its header names the same Python, path and bytes. A start writes it only when there is
none (a script the full path never ran); otherwise a start's one write is its use record. These
tests run the real launch from a venv that meets the in-process conditions (as
tests/test_inprocess.py).
"""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import reprorun
from reprorun import warm

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses /proc")

HEADER = "# /// script\n# dependencies = ['alpha']\n# ///\n"
WHERE = "import sys\nprint(open('/proc/self/cmdline').read().split(chr(0))[1], sys.prefix != sys.base_prefix)\n"


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv of the suite's base interpreter that sees reprorun through a path `.pth` only."""
    venv = tmp_path_factory.mktemp("launcher") / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", str(venv)],
                   check=True)  # fmt: skip
    python = venv / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())  # fmt: skip
    source = Path(reprorun.__file__).resolve().parent.parent
    (purelib / "reprorun-test.pth").write_text(f"{source}\n{sysconfig.get_paths()['purelib']}\n")
    return python


def _run(launcher: Path, script: Path, mode: str = "auto", warm_path: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REPRORUN_LAUNCH": mode, "REPRORUN_WARM": "1" if warm_path else "0"}
    return subprocess.run([str(launcher), "-m", "reprorun", "--python", str(launcher), str(script)],
                          capture_output=True, text=True, check=False, timeout=300, env=env)  # fmt: skip


def _code_files(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "used").glob("*.code-*"))


def _tree(cache_dir: Path) -> dict[str, int]:
    return {str(p.relative_to(cache_dir)): p.stat().st_mtime_ns for p in cache_dir.rglob("*") if p.is_file()}


def test_the_full_path_keeps_the_code_and_starts_only_read_it(launcher, tmp_path, cache_dir):
    script = tmp_path / "s.py"
    script.write_text(HEADER + WHERE)
    assert _run(launcher, script, "exec").returncode == 0  # builds the env: the full path
    [kept] = _code_files(cache_dir)
    before = _tree(cache_dir)
    first = _run(launcher, script)
    assert first.stdout == "-m True\n", first.stderr  # in-process (still `python -m reprorun`)
    second = _run(launcher, script)
    assert (second.returncode, second.stdout, second.stderr) == (first.returncode, first.stdout, first.stderr)
    after = _tree(cache_dir)
    changed = [path for path in after if after[path] != before.get(path)]
    assert [path.split("/")[0] for path in changed] == ["used"] and ".code-" not in changed[0]  # the use record only
    found = warm.find(str(launcher), None, str(script))
    assert found is not None
    root, env, _key, text = found
    assert kept.name.startswith(Path(env).name + ".code-")
    file, header = warm.code_cache(root, env, str(script), text.encode())
    data = kept.read_bytes()
    assert file == str(kept) and data.startswith(header)
    code = marshal.loads(data[len(header) :])
    assert code.co_filename == str(script.resolve())


def test_an_edited_script_runs_its_new_text(launcher, tmp_path, cache_dir):
    script = tmp_path / "s.py"
    script.write_text(HEADER + "print('one')\n")
    _run(launcher, script, "exec")
    assert _run(launcher, script).stdout == "one\n"
    [kept] = _code_files(cache_dir)
    before = kept.read_bytes()
    script.write_text(HEADER + "print('two')\n")  # same block: same env, same warm index entry
    assert _run(launcher, script).stdout == "two\n"  # compiled, as python does; the kept code is not used
    assert _run(launcher, script).stdout == "two\n"
    assert kept.read_bytes() == before  # starts do not write it
    assert _run(launcher, script, warm_path=False).stdout == "two\n"  # the full path keeps the new code
    assert _code_files(cache_dir) == [kept] and kept.read_bytes() != before  # replaced, not added
    assert _run(launcher, script).stdout == "two\n"


def test_a_damaged_or_foreign_code_file_is_compiled_again(launcher, tmp_path, cache_dir):
    script = tmp_path / "s.py"
    script.write_text(HEADER + "print('right')\n")
    _run(launcher, script, "exec")
    _run(launcher, script)
    [kept] = _code_files(cache_dir)
    header = kept.read_bytes()[: len(warm.CODE_FORMAT) + 1 + 32]
    for damaged in (b"", b"junk", header, header + b"\xff\x00", kept.read_bytes()[:-3]):
        kept.write_bytes(damaged)
        result = _run(launcher, script)
        assert (result.returncode, result.stdout, result.stderr) == (0, "right\n", "")
    wrong = compile("print('wrong')\n", str(script), "exec")
    kept.write_bytes(b"reprorun-code-1\n" + b"\0" * 32 + marshal.dumps(wrong))  # a header of other bytes
    assert _run(launcher, script).stdout == "right\n"


def test_two_scripts_in_one_env_keep_one_file_each(launcher, tmp_path, cache_dir):
    one, two = tmp_path / "one.py", tmp_path / "two.py"
    one.write_text(HEADER + "print(1)\n")
    two.write_text(HEADER + "print(2)\n")
    for script in (one, two):
        _run(launcher, script, "exec")
    assert [_run(launcher, s).stdout for s in (one, two, one, two)] == ["1\n", "2\n", "1\n", "2\n"]
    assert len(_code_files(cache_dir)) == 2


def test_a_syntax_error_is_reported_as_python_does_and_nothing_is_kept(launcher, tmp_path, cache_dir):
    script = tmp_path / "bad.py"
    script.write_text(HEADER + "print('never'\n")
    _run(launcher, script, "exec")
    exec_run, auto_run = _run(launcher, script, "exec"), _run(launcher, script)
    assert (auto_run.returncode, auto_run.stdout, auto_run.stderr) == (
        exec_run.returncode, exec_run.stdout, exec_run.stderr)  # fmt: skip
    assert "SyntaxError" in auto_run.stderr
    assert _code_files(cache_dir) == []


def test_code_cache_header_names_python_path_and_bytes(tmp_path):
    env = str(tmp_path / "envs" / "k-b")
    base = warm.code_cache(str(tmp_path), env, str(tmp_path / "s.py"), b"print(1)\n")
    assert base[0] == str(tmp_path / "used" / "k-b.code-") + base[0].rsplit("-", 1)[1]
    assert base == warm.code_cache(str(tmp_path), env, str(tmp_path / "s.py"), b"print(1)\n")
    assert warm.code_cache(str(tmp_path), env, str(tmp_path / "s.py"), b"print(2)\n")[0] == base[0]
    assert warm.code_cache(str(tmp_path), env, str(tmp_path / "s.py"), b"print(2)\n")[1] != base[1]
    other = warm.code_cache(str(tmp_path), env, str(tmp_path / "t.py"), b"print(1)\n")
    assert other[0] != base[0] and other[1] != base[1]


def test_the_trampoline_frame_looks_like_the_top_of_the_stack():
    from reprorun import inprocess

    code = inprocess._TRAMPOLINE
    assert (code.co_filename, code.co_name) == ("sys", "<module>")
    trampoline = inprocess._FUNCTION(code, {"__name__": "sys"})  # type: ignore[misc]
    outer: dict[str, object] = {}

    def below() -> None:
        frame = sys._getframe(2)
        outer.update(file=frame.f_code.co_filename, line=frame.f_lineno, name=frame.f_globals["__name__"])

    trampoline(compile("below()\n", "script.py", "exec"), {"below": below})
    assert outer == {"file": "sys", "line": 1, "name": "sys"}
