"""Every way a run ends is recorded, and a recorded run exits exactly as an unrecorded one.

Each ending runs twice, unrecorded (reprorun exec's: the process is the script) and recorded
(reprorun is a parent), and the two exit statuses must be equal; the record names the ending.
Signals are sent to the reprorun process, as `kill`, `timeout` or Slurm would send them.
"""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from crates import check_crate, records_in

pytestmark = pytest.mark.slow

READY = "import sys\nprint('ready', flush=True)\n"
ENDINGS = {
    "normal": ("print('done')\n", None, 0),
    "exception": ("raise ValueError('boom')\n", None, 1),
    "sys-exit": ("import sys\nsys.exit(5)\n", None, 5),
    "os-exit": ("import os\nos._exit(7)\n", None, 7),
    "sigint": (READY + "import time\ntime.sleep(60)\n", signal.SIGINT, -signal.SIGINT),
    "sigterm-trapped": (
        "import signal, sys, time\nsignal.signal(signal.SIGTERM, lambda *a: sys.exit(3))\n" + READY
        + "time.sleep(60)\n",
        signal.SIGTERM,
        3,
    ),
    "sigterm-default": (READY + "import time\ntime.sleep(60)\n", signal.SIGTERM, -signal.SIGTERM),
    "sigkill-of-script": ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", None, -signal.SIGKILL),
}


def start(reprorun_exe: Path, args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([str(reprorun_exe), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


def finish(proc: subprocess.Popen[str], send: int | None) -> tuple[int, str, str]:
    if send is not None:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(send)  # to the reprorun process itself
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out, err


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_ending_is_recorded_and_status_unchanged(reprorun_exe, tmp_path, ending):
    body, send, expected = ENDINGS[ending]
    path = tmp_path / f"{ending}.py"
    path.write_text("# /// script\n# dependencies = []\n# ///\n" + body)
    env = dict(os.environ)
    subprocess.run([str(reprorun_exe), "sync", str(path)], env=env, check=True, capture_output=True)
    plain = finish(start(reprorun_exe, [str(path)], env), send)[0]
    runs = tmp_path / "runs"
    recorded, _out, err = finish(start(reprorun_exe, ["--record", str(runs), str(path)], env), send)
    assert plain == recorded == expected, err
    (record,) = records_in(runs)
    facts = check_crate(record)
    assert facts["exit"]["code"] == expected
    if expected < 0:
        name = signal.Signals(-expected).name
        assert facts["exit"]["signal"] == name
        assert facts["exit"]["summary"] == f"killed by signal {name} ({-expected})"
    else:
        assert facts["exit"]["summary"] == f"exit status {expected}"
    if ending == "exception":
        assert "ValueError: boom" in err


def test_status_seen_by_a_shell_is_the_same(reprorun_exe, tmp_path):
    """`$?` of a shell: 128+N for a signal death, recorded or not."""
    path = tmp_path / "k.py"
    path.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n")
    for extra in ([], ["--record", str(tmp_path / "runs")]):
        command = " ".join([str(reprorun_exe), *extra, str(path)]) + "; echo status=$?"
        shown = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True).stdout
        assert shown.strip().endswith(f"status={128 + signal.SIGTERM}"), shown


def test_ctrl_c_from_a_terminal_reaches_the_script_once(reprorun_exe, tmp_path):
    """The terminal signals the whole foreground group: the parent must not add a second SIGINT."""
    path = tmp_path / "s.py"
    path.write_text(textwrap.dedent("""\
        import signal, sys, time
        seen = []
        signal.signal(signal.SIGINT, lambda *a: seen.append(1))
        print("ready", flush=True)
        deadline = time.monotonic() + 30
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.5)  # time for a forwarded duplicate to arrive
        print("sigints", len(seen), flush=True)
        sys.exit(len(seen))
    """))  # fmt: skip
    subprocess.run([str(reprorun_exe), "sync", str(path)], check=True, capture_output=True)
    pid, master = pty.fork()
    if pid == 0:  # the child: a session whose controlling terminal is the pty
        os.execv(str(reprorun_exe), [str(reprorun_exe), "--record", str(tmp_path / "runs"), str(path)])
    output = b""
    deadline = time.monotonic() + 60
    while b"ready" not in output and time.monotonic() < deadline:
        output += os.read(master, 1024)
    os.write(master, b"\x03")  # Ctrl-C: the terminal sends SIGINT to its foreground process group
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 1024)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    os.close(master)
    assert b"sigints 1" in output, output
    assert os.waitstatus_to_exitcode(status) == 1
    check_crate(records_in(tmp_path / "runs")[0])


def test_stdin_reaches_a_recorded_script(reprorun_exe, tmp_path):
    path = tmp_path / "s.py"
    path.write_text("import sys\nprint(sys.stdin.read().upper())\n")
    done = subprocess.run([str(reprorun_exe), "--record", str(tmp_path / "runs"), str(path)], input="piped",
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "PIPED\n"), done.stderr


def test_signal_to_the_parent_after_the_script_ended_still_writes_the_record(reprorun_exe, tmp_path):
    """Signals stay held while the record is written: a late SIGTERM cannot leave half a record."""
    path = tmp_path / "s.py"
    path.write_text("print('quick')\n")
    for _ in range(3):
        proc = start(reprorun_exe, ["--record", str(tmp_path / "runs"), str(path)], dict(os.environ))
        assert proc.stdout is not None
        assert proc.stdout.readline() == "quick\n"
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    entries = sorted(p for p in (tmp_path / "runs").iterdir() if p.name != ".python-builds.json")
    assert len(entries) == 3 and not [p for p in entries if p.name.startswith(".")], entries
    for record in entries:
        check_crate(record)
