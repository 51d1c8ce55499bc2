"""matrix.py: rows of CSV and JSON-lines files, and `{column}`/`{task}` placeholders."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprorun import matrix
from reprorun.errors import UsageError


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return str(path)


# --- reading rows ---------------------------------------------------------------------------


def test_csv_rows_keep_every_value_as_text(tmp_path: Path) -> None:
    path = write(tmp_path, "rows.csv", 'name,size\nsmall,1\n"a, b",""\n\n"it\'s ""quoted"" $HOME",3\n')
    assert matrix.read_rows(path) == [
        {"name": "small", "size": "1"},
        {"name": "a, b", "size": ""},
        {"name": 'it\'s "quoted" $HOME', "size": "3"},
    ]


def test_csv_with_bom_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path, "rows.csv", b"\xef\xbb\xbfx,y\r\n1,2\r\n3,4\r\n")
    assert matrix.read_rows(path) == [{"x": "1", "y": "2"}, {"x": "3", "y": "4"}]


def test_csv_value_with_a_newline_inside_quotes(tmp_path: Path) -> None:
    path = write(tmp_path, "rows.csv", 'x\n"two\nlines"\n')
    assert matrix.read_rows(path) == [{"x": "two\nlines"}]


def test_json_lines_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "rows.jsonl", '{"a": "x y", "n": 3, "f": 1.5, "b": true, "z": null}\n\n{"n": 4, "a": "", "f": 0, "b": false, "z": "q"}\n')  # noqa: E501
    assert matrix.read_rows(path) == [
        {"a": "x y", "n": "3", "f": "1.5", "b": "true", "z": ""},
        {"n": "4", "a": "", "f": "0", "b": "false", "z": "q"},
    ]


def test_json_lines_recognised_by_content_without_suffix(tmp_path: Path) -> None:
    path = write(tmp_path, "rows.txt", '{"a": "1"}\n')
    assert matrix.read_rows(path) == [{"a": "1"}]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("empty.csv", "", "empty.csv: no rows"),
        ("header.csv", "a,b\n", "header.csv: no rows"),
        ("blank.jsonl", "\n\n", "blank.jsonl: no rows"),
        ("ragged.csv", "a,b\n1,2\n3\n", "ragged.csv:3: 1 values, but the header has 2 columns"),
        ("long.csv", "a\n1\n2,3\n", "long.csv:3: 2 values, but the header has 1 columns"),
        ("dup.csv", "a,a\n1,2\n", "dup.csv:1: column 'a' appears twice"),
        ("noname.csv", "a,\n1,2\n", "noname.csv:1: a column without a name"),
        ("task.csv", "task\n1\n", "task.csv:1: a column may not be named 'task'"),
        ("brace.csv", "a}\n1\n", "brace.csv:1: column 'a}': braces"),
        ("quote.csv", 'a\n"open\n', "quote.csv:"),
        ("list.jsonl", '{"a": "1"}\n[1, 2]\n', "list.jsonl:2: each line must be a JSON object, not list"),
        ("bad.jsonl", '{"a": "1"}\n{"a": \n', "bad.jsonl:2: not valid JSON"),
        ("nested.jsonl", '{"a": {"b": 1}}\n', "nested.jsonl:1: 'a' is a dict"),
        ("keys.jsonl", '{"a": "1"}\n\n{"b": "2"}\n', "keys.jsonl:3: keys ['b'] differ from the first row's ['a']"),
        ("taskkey.jsonl", '{"task": "1"}\n', "taskkey.jsonl:1: a column may not be named 'task'"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(UsageError) as caught:
        matrix.read_rows(path)
    assert caught.value.message.startswith(str(tmp_path / message)), caught.value.message


def test_missing_file_directory_and_binary(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        matrix.read_rows(str(tmp_path / "absent.csv"))
    with pytest.raises(UsageError, match="is a directory"):
        matrix.read_rows(str(tmp_path))
    with pytest.raises(UsageError, match="not UTF-8"):
        matrix.read_rows(write(tmp_path, "bin.csv", b"a\n\xff\xfe\n"))


# --- placeholders -----------------------------------------------------------------------------


def test_placeholders_found_and_escaped_braces_ignored() -> None:
    assert matrix.placeholders("--in {name}.csv --n {task} {{literal}} {name}") == {"name", "task"}
    assert matrix.placeholders("plain") == set()


def test_fill_replaces_columns_and_task() -> None:
    row = {"name": "a b", "size": "$x'\""}
    assert matrix.fill("{name}/{size}-{task}", row, 7) == "a b/$x'\"-7"
    assert matrix.fill("{{name}} {name}}}", row, 0) == "{name} a b}"
    assert matrix.fill("no placeholders", row, 1) == "no placeholders"


def test_fill_does_not_reinterpret_values() -> None:
    # A value that looks like a placeholder is data, not a template.
    assert matrix.fill("{a}", {"a": "{task}"}, 3) == "{task}"


def test_unknown_placeholder_lists_the_known_ones() -> None:
    with pytest.raises(UsageError) as caught:
        matrix.fill("--x {nmae}", {"name": "v"}, 0)
    assert caught.value.message == "unknown placeholder {nmae} in '--x {nmae}'"
    assert caught.value.hint == "the placeholders are {name}, {task}"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{open", "unclosed '{'"),
        ("{a{b}", "unclosed '{'"),
        ("x}", "single '}'"),
        ("{}", "empty placeholder {}"),
    ],
)
def test_malformed_templates(template: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        matrix.placeholders(template)
