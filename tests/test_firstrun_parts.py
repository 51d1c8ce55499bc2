"""The lean first run's stdlib-only pieces against what the full path uses (issue 17).

launch/firstrun.py builds the env of a script without requirements before the command line is
imported, so it reads the block, the specifiers, the interpreter record and pip's configuration,
and writes the key and JSON, without tomllib, packaging or json. Each piece must answer exactly as
the full path's does, or not at all (None: the full path decides): checked here on many inputs.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from reprorun.envs import interpreters, keys, layout, leanbuild, leankey, pipconfig
from reprorun.envs.installers.sources import Sources, sources_for
from reprorun.envs.installers.uv import find_uv
from reprorun.launch import firstrun
from reprorun.options import Options
from reprorun.script.fields import Settings
from reprorun.script.leanblock import fits, may_have_install_lines, requires_python

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

# --- the block ---------------------------------------------------------------------------------

ACCEPTED = {
    "dependencies = []\n": "",
    'requires-python = ">=3.10"\ndependencies = []\n': ">=3.10",
    "requires-python = '>=3.9,<4'  # a comment\n": ">=3.9,<4",
    "  dependencies=[ ]   # none\n\n# a comment line\n": "",
    "": "",
    "#\n": "",
    'dependencies = []\nrequires-python = "==3.11.*"\n': "==3.11.*",
}
REFUSED = [
    'dependencies = ["alpha"]\n',
    "dependencies = [\n]\n",
    'requires-python = ">=3.10"\nrequires-python = ">=3.11"\n',
    "requires-python = 3\n",
    'requires-python = """>=3.10"""\n',
    'requires-python = ">=3.10\\u0030"\n',
    'requires-python = ""\n',
    '"requires-python" = ">=3.10"\n',
    "[tool.reprorun]\n",
    'name = "x"\n',
    "dependencies = [] x\n",
    'requires-python = ">=3.10" x\n',
    "dependencies = []\r\n",
    "dependencies = [\n",
    'requires-python = ">=3.10\n',
    "dependencies = [] \x01\n",
]


@pytest.mark.parametrize("content", list(ACCEPTED))
def test_the_simplest_blocks_are_read_as_tomllib_reads_them(content):
    assert requires_python(content) == ACCEPTED[content]
    data = tomllib.loads(content)
    assert set(data) <= {"requires-python", "dependencies"}
    assert data.get("dependencies", []) == []
    assert data.get("requires-python", "") == ACCEPTED[content]


@pytest.mark.parametrize("content", REFUSED)
def test_anything_else_in_a_block_is_left_to_the_full_path(content):
    assert requires_python(content) is None


_PIECES = st.sampled_from([
    "dependencies", "requires-python", "name", " ", "\t", "=", "[", "]", "'", '"', ">=3.10", "<3.13", "#",
    "\n", ",", "\\", "x", "\r", '"""', "[tool.x]", "= []", '= ">=3.8"',
])  # fmt: skip


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_whatever_the_lean_reader_accepts_tomllib_reads_the_same(content):
    found = requires_python(content)
    if found is None:
        return
    data = tomllib.loads(content)  # never raises for an accepted block
    assert set(data) <= {"requires-python", "dependencies"}
    assert data.get("dependencies", []) == []
    assert data.get("requires-python", "") == found


# --- requires-python ------------------------------------------------------------------------------

SPECS = [">=3.10", "<3.13", ">=3.8,<3.11.7", "==3.11.*", "!=3.11.*", "~=3.10", "~=3.11.7", "~=3.11.8", ">3.11",
         ">3.11.7", "<=3.11.7", "<=3.11", "==3.11.7", "==3.11.7.0", "==3.11", "!=3.11.7", "==3.*", " >= 3.10 , < 4 ",
         ">=3", "==3.11.7.*", "==3.12.*", "<3.11.7.1", ">3.11.7.0"]  # fmt: skip
UNSURE = ["", "===3.11.7", ">=3.10.*", "~=3", ">=3.10a1", ">=v3.10", ">=3.010", "=>3.10", ">=3.10,,<4", "3.10",
          ">=1!3", ">=3.10+local", ">=3.10.post1", ">=\uff13.10"]  # fmt: skip


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("version", ["3.11.7", "3.10.13", "3.12.1", "3.13.0", "3.11.0", "3.9.18"])
def test_plain_specifiers_are_decided_as_packaging_decides(spec, version):
    assert fits(spec, version) is SpecifierSet(spec).contains(version, prereleases=True)


@pytest.mark.parametrize("spec", UNSURE[1:])
def test_other_specifiers_are_left_to_the_full_path(spec):
    assert fits(spec, "3.11.7") is None


def test_no_requires_python_fits_and_a_pre_release_interpreter_is_left_to_the_full_path():
    assert fits("", "3.11.7") is True
    assert fits(">=3.10", "3.13.0rc1") is None


_CLAUSE = st.tuples(st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "~=", "===", "=", ""]),
                    st.lists(st.integers(0, 13), min_size=1, max_size=4).map(lambda p: ".".join(map(str, p))),
                    st.sampled_from(["", ".*", " ", "a1"])).map("".join)  # fmt: skip


@settings(max_examples=600)
@given(
    st.lists(_CLAUSE, min_size=1, max_size=3).map(",".join),
    st.lists(st.integers(0, 13), min_size=1, max_size=4).map(lambda p: ".".join(map(str, p))),
)
def test_whatever_specifier_the_lean_check_decides_packaging_decides_the_same(spec, version):
    found = fits(spec, version)
    if found is None:
        return
    try:
        expected = SpecifierSet(spec).contains(version, prereleases=True)
    except InvalidSpecifier:
        pytest.fail(f"decided an invalid specifier: {spec!r}")
    assert found is expected, (spec, version)


def test_install_lines_are_suspected_generously():
    assert may_have_install_lines("# %pip install numpy\n")
    assert may_have_install_lines("x = 1\n#!pip install numpy\n")
    assert not may_have_install_lines("print('install it yourself')\n")
    assert not may_have_install_lines("print('hello')\n")


# --- JSON -----------------------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=400)
@given(_JSON)
def test_json_is_written_as_json_dumps_writes_it(value):
    assert leankey.dumps(value) == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert leankey.dumps(value, indent=2) == json.dumps(value, indent=2, sort_keys=True)


@given(st.text())
def test_every_string_is_escaped_as_json_escapes_it(text):
    assert leankey.quoted(text) == json.dumps(text)


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=6), st.sampled_from([None, 2]))
def test_a_flat_object_of_strings_is_read_as_json_loads_reads_it_or_not_at_all(value, indent):
    text = json.dumps(value, indent=indent)
    found = leankey.flat_strings(text)
    assert found is None or found == json.loads(text)
    if all(s.isascii() and s.isprintable() and '"' not in s and "\\" not in s for s in (*value, *value.values())):
        assert found == value


@pytest.mark.parametrize("text", ['{"a": "b",}', '{"a" "b"}', '{"a": 1}', '["a"]', '{"a": "b"} x', '{"a": "b" "c"}',
                                  '{"a": "\\u0041"}', "{", '{"a": "b\n"}'])  # fmt: skip
def test_anything_but_a_plain_flat_object_is_not_read(text):
    assert leankey.flat_strings(text) is None


def test_the_key_version_is_the_full_paths():
    assert leankey.KEY_VERSION == keys.KEY_VERSION
    assert set(leankey.FIELDS) == set(interpreters.Interpreter.__dataclass_fields__)


# --- the interpreter record and the key -----------------------------------------------------------


def _full_key(interpreter: interpreters.Interpreter, sources: Sources) -> str:
    return keys.digest(keys.document((), interpreter, sources, {}))


PIP_CONFIGS = {
    "none": {},
    "find-links and no-index": {"PIP_FIND_LINKS": "/w1 relative/w2 /w1 https://h.example/w", "PIP_NO_INDEX": "yes"},
    "index and extras": {"PIP_INDEX_URL": "https://i.example/simple", "PIP_EXTRA_INDEX_URL": "https://a.example b"},
    "site settings": {"PIP_TRUSTED_HOST": "h1 h2", "PIP_ONLY_BINARY": ":all:", "PIP_NO_BINARY": "a, b", "PIP_PRE": "1"},
    "harmless": {"PIP_TIMEOUT": "60", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "off"},
    "odd scheme": {"PIP_FIND_LINKS": "file:///w git+https://x.example/y 1a://z"},
    "unicode": {"PIP_FIND_LINKS": "/wheels/é", "PIP_INDEX_URL": 'https://ü.example/"q"'},
}


@pytest.mark.parametrize("name", list(PIP_CONFIGS))
def test_the_lean_key_is_the_full_paths_for_every_pip_configuration(name, monkeypatch, tmp_path):
    for variable in [v for v in os.environ if v.startswith("PIP_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for variable, value in PIP_CONFIGS[name].items():
        monkeypatch.setenv(variable, value)
    store = tmp_path / layout.INTERPRETERS
    interpreter = interpreters.inspect(sys.executable, store)
    described = leankey.interpreter(str(tmp_path), os.path.abspath(sys.executable))
    assert described is not None and described["executable"] == interpreter.executable
    full = sources_for(Options(), Settings())
    lean = leankey.sources()
    assert lean is not None
    assert leankey.digest(leankey.document(described, lean)) == _full_key(interpreter, full)
    doc = keys.document((), interpreter, full, {})
    assert leankey.document(described, lean) == doc
    assert leankey.dumps(doc, indent=2) == json.dumps(doc, indent=2, sort_keys=True)


def test_pip_configuration_files_and_constraints_give_the_full_paths_key(monkeypatch, tmp_path):
    constraints = tmp_path / "c.txt"
    constraints.write_text("alpha<2\n")
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nfind-links = {tmp_path}/w\nconstraint = {constraints}\n[install]\npre = true\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    monkeypatch.delenv("PIP_FIND_LINKS")
    interpreter = interpreters.inspect(sys.executable, tmp_path / layout.INTERPRETERS)
    described = leankey.interpreter(str(tmp_path), os.path.abspath(sys.executable))
    lean = leankey.sources()
    assert described is not None and lean is not None
    assert leankey.digest(leankey.document(described, lean)) == _full_key(
        interpreter, sources_for(Options(), Settings())
    )
    constraints.write_text("alpha<3\n")  # the content is in the key
    assert leankey.digest(leankey.document(described, leankey.sources() or {})) == _full_key(
        interpreter, sources_for(Options(), Settings())
    )


def test_a_pip_setting_uv_cannot_take_is_left_to_the_full_path(monkeypatch):
    monkeypatch.setenv("PIP_USE_FEATURE", "truststore")
    assert pipconfig.load().unmappable()
    assert leankey.sources() is None


def test_an_interpreter_the_cache_has_not_described_is_left_to_the_full_path(tmp_path):
    assert leankey.interpreter(str(tmp_path), sys.executable) is None
    store = tmp_path / layout.INTERPRETERS
    interpreters.inspect(sys.executable, store)
    assert leankey.interpreter(str(tmp_path), os.path.abspath(sys.executable)) is not None
    for record in store.iterdir():
        record.write_text(record.read_text()[:-1] + ', "extra": "x"}')
    assert leankey.interpreter(str(tmp_path), os.path.abspath(sys.executable)) is None


def test_the_uv_the_lean_build_runs_is_the_one_the_uv_backend_finds():
    found = find_uv()
    lean = leanbuild.uv_executable()
    assert lean is None or lean == found
    if Path(sys.prefix, "bin", "uv").is_file() and sys.prefix != sys.base_prefix:
        assert lean == found  # the test venv has reprorun[uv]: the lean build applies here


def test_the_configuration_file_may_say_only_where_the_cache_is_and_which_installer():
    assert firstrun._configured("") == {}
    assert firstrun._configured("/c.toml\0cache-dir = \"/x\"\n# note\ninstaller = 'uv'  # fast\n") == {
        "cache-dir": "/x",
        "installer": "uv",
    }
    for text in ['python = "3.11"', 'record = "~/runs"', "no-build = true", 'installer = "uv"\ninstaller = "pip"',
                 'cache-dir = "a\\"b"', "[table]", 'index-url = "https://x"', "installer = uv"]:  # fmt: skip
        assert firstrun._configured("/c.toml\0" + text + "\n") is None, text
