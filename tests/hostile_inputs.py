"""At least 300 malformed or odd scripts and notebooks, generated: what a careless or hostile user feeds.

`inputs()` returns (name, content) pairs: content is the file's bytes, or one of SPECIAL's kinds
(a FIFO, a socket, a device, a directory, symlink loops...), which `materialize` creates.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

SPECIAL = ("fifo", "socket", "device", "directory", "symlink-loop", "symlink-self", "dangling-symlink",
           "symlink-to-fifo", "symlink-to-directory")  # fmt: skip

DEPTHS = (2, 64, 200, 500, 1000, 5000, 50000)


def block(body: str, code: str = 'print("hi")\n') -> str:
    """A script whose block has this TOML (one line per line of body)."""
    lines = "".join(f"# {line}".rstrip() + "\n" for line in body.splitlines())
    return f"# /// script\n{lines}# ///\n{code}"


def notebook(cells: object, extra: dict[str, object] | None = None) -> str:
    """A notebook's JSON text."""
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5, **(extra or {})})


def code_cell(source: object) -> dict[str, object]:
    """A code cell with this source (a string, a list, or anything hostile)."""
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}


def _toml_nesting() -> Iterator[tuple[str, str]]:
    for depth in DEPTHS:
        yield f"deep-array-{depth}", block("dependencies = " + "[" * depth + "]" * depth)
        yield f"deep-inline-{depth}", block("[tool.x]\na = " + "{b = " * depth + "1" + "}" * depth)
        nested = "[" * depth + "]" * depth
        yield f"deep-array-in-tool-{depth}", block("dependencies = []\n[tool.reprorun]\nx = " + nested)
        yield f"deep-unclosed-{depth}", block("dependencies = " + "[" * depth)
        yield f"deep-keys-{depth}", block("[" + ".".join(["a"] * depth) + "]\nb = 1")


def _notebooks() -> Iterator[tuple[str, str]]:
    block_source = "# /// script\n# dependencies = []\n# ///\n"
    hostile_sources: list[tuple[str, object]] = [
        ("numbers", [1, 2, 3]), ("number", 5), ("float", 1.5), ("null", None), ("true", True),
        ("dict", {"a": 1}), ("nested-lists", [["a"], ["b"]]), ("mixed", ["# /// script\n", 3]),
        ("empty-list", []), ("empty", ""), ("huge-number", [10**400]), ("list-of-null", [None]),
    ]  # fmt: skip
    for name, source in hostile_sources:
        yield f"nb-source-{name}.ipynb", notebook([code_cell(source)])
        yield f"nb-second-cell-{name}.ipynb", notebook([code_cell(block_source), code_cell(source)])
    for name, cells in [("cells-dict", {"a": 1}), ("cells-number", 3), ("cells-null", None),
                        ("cells-strings", ["x"]), ("cells-nested", [[code_cell("x")]]),
                        ("cell-no-type", [{"source": "x"}]), ("cell-type-number", [{"cell_type": 1, "source": ""}]),
                        ("cell-no-source", [{"cell_type": "code"}])]:  # fmt: skip
        yield f"nb-{name}.ipynb", notebook(cells)
    for depth in DEPTHS:
        first = json.dumps(code_cell(block_source))
        yield f"nb-deep-metadata-{depth}.ipynb", '{"cells": [' + first + '], "x": ' + "[" * depth + "]" * depth + "}"
        nested = "[" * depth + "]" * depth
        yield f"nb-deep-source-{depth}.ipynb", '{"cells": [{"cell_type": "code", "source": ' + nested + "}]}"
        yield f"nb-deep-unclosed-{depth}.ipynb", '{"cells": ' + "[" * depth
    for name, raw in [("not-json", "not json"), ("empty", ""), ("array", "[]"), ("string", '"x"'),
                      ("nan", '{"cells": [], "x": NaN}'), ("bom", "\ufeff" + notebook([code_cell(block_source)])),
                      ("trailing", notebook([]) + "garbage"), ("huge-int", '{"cells": [], "n": ' + "9" * 5000 + "}"),
                      ("dup-keys", '{"cells": [], "cells": 5}'), ("lone-surrogate", '{"cells": [], "x": "\\ud800"}'),
                      ("control", '{"cells": [], "x": "\x01"}')]:  # fmt: skip
        yield f"nb-raw-{name}.ipynb", raw


EDGE_DATES = (
    "0001-01-01", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "0001-01-01T00:30:00+00:31",
    "0001-01-01T23:59:59-23:59", "9999-12-31", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:59:59.999999+00:00", "2024-02-29", "2023-02-29", "2024-13-01", "2024-00-10",
    "2016-12-31T23:59:60Z", "2024-06-01t00:00:00z", "2024-06-01 00:00:00Z", "2024-06-01T24:00:00Z",
    "1970-01-01T00:00:00+24:00", "0000-01-01", "10000-01-01", "+2024-01-01", "2024-1-1", "",
    " 2024-06-01 ", "2024-06-01T00:00:00.1234567890Z", "1900-02-29",
)  # fmt: skip


def _dates() -> Iterator[tuple[str, str]]:
    for i, date in enumerate(EDGE_DATES):
        yield f"date-string-{i}", block(f'dependencies = []\n[tool.reprorun]\nexclude-newer = "{date}"')
    for i, literal in enumerate(("0001-01-01", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
                                 "0001-01-01T00:00:00", "00:00:00", "9999-12-31", "1979-05-27T07:32:00Z",
                                 "0001-01-01 00:00:00Z")):  # fmt: skip
        yield f"date-literal-{i}", block(f"dependencies = []\n[tool.reprorun]\nexclude-newer = {literal}")
        yield f"date-in-tool-{i}", block(f"dependencies = []\n[tool.other]\nwhen = {literal}")


def _toml_values() -> Iterator[tuple[str, str]]:
    for i, value in enumerate(("nan", "+nan", "-nan", "inf", "-inf", "+inf", "1e400", "-1e400",
                               "99999999999999999999999", "0x7fffffffffffffff", "[nan, inf]", "{a = nan}",
                               "1979-05-27T07:32:00.999999999Z", "'''\nmulti\n'''",
                               '"\\u0000"', '"\\uD800"')):  # fmt: skip
        yield f"tool-value-{i}", block(f"dependencies = []\n[tool.x]\nv = {value}")
    for i, value in enumerate(("5", '"alpha"', "{a = 1}", "[1, 2]", '[["alpha"]]', "true", "nan",
                               '["alpha", 5]', '[""]', '["   "]', '["alpha @ "]', '["alpha[" ]',
                               '["alpha; python_version >"]', '["alpha" ]\ndependencies = []',
                               '["' + "a" * 100000 + '"]', '["alpha==1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"]',
                               '["-e ."]', '["--index-url=http://x"]', '["alpha\\u0000"]', '["ünïcode"]',
                               '["alpha ; os_name == \\"nt\\" and " ]', '["alpha" , "ALPHA", "Alpha"]',
                               '["http://example.com/x.whl"]', '["alpha @ file:///etc/passwd"]')):  # fmt: skip
        yield f"deps-{i}", block(f"dependencies = {value}")
        yield f"requested-{i}", block(f'dependencies = ["alpha==1.0"]\n[tool.reprorun]\nrequested = {value}\n'
                                      'frozen-for = "cpython-3.11.7-manylinux_2_36_x86_64"')
    for i, value in enumerate(('""', '">="', '"3"', '"~=3"', '"===3.11"', '">=3.11.*"', "3.11", "[]",
                               '">=3.8,<2"', '"!=3.11.*,>=99"', '"' + ">=3," * 2000 + '"')):  # fmt: skip
        yield f"requires-python-{i}", block(f"requires-python = {value}\ndependencies = []")
    for i, (key, value) in enumerate((("requested", "5"), ("requested", '"alpha"'), ("requested", "[1]"),
                                      ("hashes", '"x"'), ("hashes", "{alpha = 5}"),
                                      ("hashes", '{alpha = ["md5:x"]}'),
                                      ("frozen-for", "[]"), ("frozen-for", '""'), ("exclude-newer", "5"),
                                      ("exclude-newer", "[]"), ("index-url", "5"), ("find-links", '"x"'),
                                      ("extra-index-urls", "[5]"), ("unknown", "1"), ("record", "nan"))):  # fmt: skip
        yield f"reprorun-field-{i}", block(f'dependencies = ["alpha"]\n[tool.reprorun]\n{key} = {value}')


def _syntax() -> Iterator[tuple[str, str]]:
    broken = ('dependencies = ["alpha"', 'dependencies = "alpha', "dependencies = [alpha]", "= 1", "a = 1\na = 2",
              "[tool]\n[tool]", 'dependencies = ["a"]]', "dependencies = '''", "x = \"\\q\"", "[[tool]]\n[tool]",
              "a.b = 1\na = 2", "key with space = 1", "\x00 = 1", "a = 1 b = 2", "[a]]", "a = [1,,2]",
              "a = {b = 1,}", "a = 00123", "a = 1__0", "a = 1979-05-27T07:32", "a = .5", 'a = "\x7f"',
              "[" * 3 + "a" + "]" * 3)  # fmt: skip
    for i, body in enumerate(broken):
        yield f"syntax-{i}", block(body)


def _scripts() -> Iterator[tuple[str, bytes | str]]:
    ok = block('dependencies = ["alpha"]')
    yield "empty", ""
    yield "only-opener", "# /// script\n"
    yield "only-closer", "# ///\n"
    yield "two-blocks", ok + ok
    yield "nested-opener", "# /// script\n# /// script\n# dependencies = []\n# ///\n"
    yield "unclosed-then-block", "# /// script\nx = 1\n" + ok
    yield "many-unclosed", "# /// script\n" * 100000
    yield "many-unclosed-types", "".join(f"# /// t{i}\n" for i in range(20000))
    yield "many-closers", "# ///\n" * 100000
    yield "huge-block", "# /// script\n# dependencies = [\n" + '#   "alpha",\n' * 20000 + "# ]\n# ///\n"
    yield "long-line", ok + "x = '" + "a" * 1_000_000 + "'\n"
    yield "nul-bytes", ok.replace("print", "pri\x00nt")
    yield "nul-in-block", block('dependencies = ["al\x00pha"]')
    yield "cr-only", ok.replace("\n", "\r")
    yield "crlf", ok.replace("\n", "\r\n")
    yield "mixed-endings", "# /// script\r\n# dependencies = []\n# ///\r" + "print(1)\n"
    yield "form-feed", "\f" + ok
    yield "bom", "\ufeff" + ok
    yield "double-bom", "\ufeff\ufeff" + ok
    yield "zero-width", ok.replace("# ///", "#\u200b ///", 1)
    yield "nbsp-opener", ok.replace("# /// script", "#\u00a0/// script")
    yield "tab-prefix", ok.replace("# ", "#\t")
    yield "no-space", ok.replace("# ", "#")
    yield "trailing-space-opener", ok.replace("# /// script", "# /// script   ")
    yield "rtl", block('dependencies = ["\u202ealpha"]')
    yield "latin1", ok.encode("utf-8") + "é".encode("latin-1")
    yield "utf16", ok.encode("utf-16")
    yield "lone-surrogate-bytes", ok.encode() + b"\xed\xa0\x80"
    yield "binary", bytes(range(256)) * 10
    yield "elf", b"\x7fELF" + b"\x00" * 100
    yield "pep722", "# Script Dependencies:\n#   alpha\n#   ]]]\n"
    yield "pep722-and-block", "# Script Dependencies:\n#   alpha\n" + ok
    yield "pep722-empty", "# Script Dependencies:\n"
    yield "shebang-only", "#!/usr/bin/env reprorun\n"
    yield "encoding-latin1", "# -*- coding: latin-1 -*-\n" + ok
    yield "surrogate-escape-name", ok
    yield "block-at-eof-no-newline", ok.rstrip("\n")
    yield "closer-no-newline", "# /// script\n# dependencies = []\n# ///"
    yield "jupytext", "# ---\n# jupyter:\n#   kernelspec: {}\n# ---\n" + ok
    yield "only-comments", "#\n" * 1000
    yield "block-in-string", 'x = """\n' + ok + '"""\n'
    yield "indented-block", "".join("    " + line + "\n" for line in ok.splitlines())


def inputs() -> list[tuple[str, bytes | str]]:
    """Every generated input: (file name, content or a SPECIAL kind)."""
    found: list[tuple[str, bytes | str]] = []
    for generator in (_toml_nesting, _notebooks, _dates, _toml_values, _syntax, _scripts):
        for name, content in generator():
            found.append((name if name.endswith(".ipynb") else f"{name}.py", content))
    found += [(f"special-{kind}.py", kind) for kind in SPECIAL]
    names = [name for name, _ in found]
    assert len(names) == len(set(names)), "input names must be unique"
    return found


def materialize(folder: Path, name: str, content: bytes | str) -> Path:
    """Create the input in folder (a regular file, or the special file its kind names)."""
    path = folder / name
    if isinstance(content, str) and content in SPECIAL and name.startswith("special-"):
        _special(folder, path, content)
    else:
        path.write_bytes(content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content)
    return path


def _special(folder: Path, path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))  # left bound: the test process holds it for the session
        _KEEP.append(server)
    elif kind == "device":
        os.symlink("/dev/zero", path)  # a device (mknod needs privileges some runners lack)
    elif kind == "directory":
        path.mkdir()
    elif kind == "symlink-loop":
        other = folder / f"{path.name}.other"
        os.symlink(other, path)
        os.symlink(path, other)
    elif kind == "symlink-self":
        os.symlink(path, path)
    elif kind == "dangling-symlink":
        os.symlink(folder / "nowhere.py", path)
    elif kind == "symlink-to-fifo":
        target = folder / f"{path.name}.fifo"
        os.mkfifo(target)
        os.symlink(target, path)
    elif kind == "symlink-to-directory":
        target = folder / f"{path.name}.dir"
        target.mkdir()
        os.symlink(target, path)


_KEEP: list[socket.socket] = []
