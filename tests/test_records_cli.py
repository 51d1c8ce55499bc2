"""`reprorun runs`: list records newest first, show one, in text and JSON; bad ids are clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crates import records_in

pytestmark = pytest.mark.slow


def make_runs(run_reprorun, tmp_path: Path) -> tuple[Path, list[Path]]:
    runs = tmp_path / "runs"
    ok = tmp_path / "ok.py"
    ok.write_text("print('fine')\n")
    failing = tmp_path / "failing.py"
    failing.write_text("import os, signal, sys\nsys.exit(int(sys.argv[1])) if sys.argv[1:] else "
                       "os.kill(os.getpid(), signal.SIGTERM)\n")  # fmt: skip
    assert run_reprorun("--record", runs, ok).returncode == 0
    assert run_reprorun("--record", runs, failing, "3").returncode == 3
    assert run_reprorun("--record", runs, failing).returncode == -15
    return runs, records_in(runs)


def test_runs_lists_newest_first_with_status_duration_and_host(run_reprorun, tmp_path):
    runs, made = make_runs(run_reprorun, tmp_path)
    (runs / "not-a-record").mkdir()
    (runs / "broken").mkdir()
    (runs / "broken" / "ro-crate-metadata.json").write_text("{nope")
    listed = run_reprorun("runs", "--json", runs)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    starts = [r["start"] for r in rows]
    assert starts == sorted(starts, reverse=True)
    assert sorted(r["id"] for r in rows) == sorted(p.name for p in made)  # the broken ones are skipped
    assert {(r["script"], r["status"], r["exit-code"]) for r in rows} == {
        ("ok.py", "ok", 0), ("failing.py", "exit 3", 3), ("failing.py", "SIGTERM", -15)}
    assert all(r["duration"] >= 0 and r["host"] for r in rows)
    text = run_reprorun("runs", runs)
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["TIME", "SCRIPT", "STATUS", "DURATION", "HOST", "ID"]
    assert [line.split()[-1] for line in lines[1:]] == [r["id"] for r in rows]
    assert "SIGTERM" in text.stdout and "exit 3" in text.stdout


def test_runs_show_by_short_id_full_id_or_path(run_reprorun, tmp_path):
    runs, made = make_runs(run_reprorun, tmp_path)
    record = made[0]
    short = record.name.rsplit("-", 1)[1]
    by_short = run_reprorun("runs", "show", short, runs, "--json")
    assert by_short.returncode == 0, by_short.stderr
    facts = json.loads(by_short.stdout)
    assert facts["id"] == record.name
    assert json.loads(run_reprorun("runs", "show", record, "--json").stdout)["id"] == record.name
    shown = run_reprorun("runs", "show", record.name, runs)
    assert shown.returncode == 0
    assert f"record:       {record.name}" in shown.stdout
    assert "status:" in shown.stdout and "python:" in shown.stdout


def test_runs_uses_the_configured_folder(run_reprorun, tmp_path):
    runs, made = make_runs(run_reprorun, tmp_path)
    listed = run_reprorun("runs", "--json", env={"REPRORUN_RECORD": str(runs)})
    assert len(json.loads(listed.stdout)) == len(made)


def test_runs_errors(run_reprorun, tmp_path):
    runs, _made = make_runs(run_reprorun, tmp_path)
    missing = run_reprorun("runs", "show", "zzzzzz", runs)
    assert missing.returncode == 2
    assert missing.stderr.startswith(f"reprorun: error: no run record 'zzzzzz' in {runs}")
    ambiguous = run_reprorun("runs", "show", "Z-", runs)
    assert ambiguous.returncode == 2 and "names 3 records" in ambiguous.stderr
    assert run_reprorun("runs", "show", runs).returncode == 2
    assert run_reprorun("runs", "a", "b").returncode == 2
    empty = run_reprorun("runs", tmp_path / "none")
    assert (empty.returncode, empty.stdout) == (0, "")
    assert "no run records" in empty.stderr
