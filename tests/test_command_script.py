"""The `reprorun` command is a plain script: it must start without the entry-point wrapper's `re`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from reprorun import __version__

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "reprorun"


def test_command_script_imports_only_sys_and_reprorun_main():
    tree = ast.parse(SCRIPT.read_text("utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert imported == {"sys", "reprorun.__main__"}
    assert SCRIPT.read_text("utf-8").startswith("#!python\n")  # installers rewrite it


def test_command_script_runs_reprorun():
    result = subprocess.run([sys.executable, str(SCRIPT), "--version"], capture_output=True, text=True, check=False)
    # issue 18: the version line names the Python too
    assert result.returncode == 0 and result.stdout.startswith(f"reprorun {__version__} (Python 3.")
