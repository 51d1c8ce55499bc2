"""The `reprorun` command is a plain script: it must start without the entry-point wrapper's `re`."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from reprorun import __version__

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "reprorun"


def test_command_script_tries_the_warm_path_before_anything_else():
    tree = ast.parse(SCRIPT.read_text("utf-8"))
    imported = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            imported.append(node.module or "")
    # reprorun.__main__ only when the warm path could not run the script (one module fewer on it)
    assert imported == ["sys", "reprorun.warm", "reprorun.__main__"]
    assert SCRIPT.read_text("utf-8").startswith("#!python\n")  # installers rewrite it


def test_command_script_runs_reprorun():
    result = subprocess.run([sys.executable, str(SCRIPT), "--version"], capture_output=True, text=True, check=False)
    # issue 18: the version line names the Python too
    assert result.returncode == 0 and result.stdout.startswith(f"reprorun {__version__} (Python 3.")


def test_command_script_runs_a_cached_script_without_reprorun_main(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("import sys\nprint(sorted(m for m in sys.modules if m.startswith('reprorun')))\n")
    env = {**os.environ, "REPRORUN_CACHE_DIR": str(tmp_path / "cache"), "REPRORUN_LAUNCH": "exec"}
    argv = [sys.executable, str(SCRIPT), "--python", sys.executable, str(script)]
    first = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    assert first.returncode == 0, first.stderr
    traced = subprocess.run([sys.executable, "-X", "importtime", *argv[1:]], capture_output=True, text=True,
                            check=False, env=env)  # fmt: skip
    imported = {line.rsplit("|", 1)[-1].strip() for line in traced.stderr.splitlines() if "import time:" in line}
    assert "reprorun.warm" in imported
    assert "reprorun.__main__" not in imported
