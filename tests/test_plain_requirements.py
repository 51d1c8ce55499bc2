"""script/requirements.py's plain spellings, read without packaging, give packaging's answers.

A cold build reads `dependencies = ["requests"]` and `requires-python = ">=3.10"` without
importing packaging (a third of its own work): these tests hold every plain answer against
packaging's own, so the fast reading can never change a key, a validation or a choice.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from reprorun.script import requirements

REQUIREMENTS = [
    "requests", "Requests", "Foo_Bar", "foo.bar", "FOO---bar", "a", "A1", "zope.interface", "x-y_z.w",
    "numpy==2.1.3", "numpy==2.1.3.0", "numpy==02.1", "six>=1", "six<=1.16.0", "six!=1.0", "six>1", "six<2",
    "pkg>=2024.1.0", "foo_", "foo.", "-foo", "foo-", "_foo", ".foo", "foo bar", "foo >=1", "foo>= 1",
    " foo", "foo ", "foo>=1,<2", "foo==1.*", "foo~=1.2", "foo~=1", "foo===1", "foo==1.0rc1", "foo==1.0.post1",
    "foo==1.0+local", "foo[x]", "foo[x]>=1", "foo (>=1)", "foo; python_version<'3.12'", "foo @ https://x.invalid/f.whl",
    "foo>=", "foo=1", "foo==", "foo==1.", "foo==.1", "foo>=1..2", "", "é", "foo>=v1", "foo>=1a", "Foo>=1.0",
    "foo>=1.0,", "foo=>1", "foo<>1", "foo==1,==1.0",
]  # fmt: skip


def packaging_normalize(text: str) -> str:
    """requirements.normalize as it reads every requirement through packaging (the reference)."""
    req = Requirement(text)
    out: str = canonicalize_name(req.name)
    if req.extras:
        out += "[" + ",".join(sorted(canonicalize_name(e) for e in req.extras)) + "]"
    if req.url:
        out += f" @ {req.url}"
    else:
        out += ",".join(sorted(str(s) for s in req.specifier))
    if req.marker is not None:
        out += f" ; {req.marker}"
    return out


@pytest.mark.parametrize("text", REQUIREMENTS)
def test_a_plain_requirement_is_valid_and_normalized_as_packaging_does(text: str) -> None:
    quick = requirements.plain(text)
    try:
        expected = packaging_normalize(text)
    except InvalidRequirement:
        assert quick is None, f"{text!r} is invalid, but read as plain"
        return
    if quick is not None:
        assert quick == expected
    assert requirements.normalize(text) == expected
    assert requirements.canonical_name(text) == canonicalize_name(Requirement(text).name)


def test_the_usual_spellings_are_plain() -> None:
    for text in ("requests", "numpy==2.1.3", "Foo_Bar>=1.0", "six<2", "zope.interface!=5"):
        assert requirements.plain(text) is not None, text
    for text in ("foo[x]", "foo>=1,<2", "foo ; os_name == 'nt'", "foo~=1.2", "foo==1.*", "foo >= 1"):
        assert requirements.plain(text) is None, text


@pytest.mark.parametrize("name", ["Django", "oslo.concurrency", "Foo__Bar", "a-_.-b", "ÄÖ_x", "requests", "X.Y"])
def test_canonicalize_is_packagings(name: str) -> None:
    assert requirements.canonicalize(name) == canonicalize_name(name)


SPECIFIERS = [
    "", ">=3.10", ">= 3.10", " >=3.10 ", ">=3.9,<3.13", ">=3.9, <3.13", ">3.10", "<3.12", "<=3.11.7", "==3.11",
    "==3.11.7", "==3.11.0", "!=3.11.7", ">=3", "<4", ">3", ">=3.10.0", "==3", ">=3.10,!=3.11.*", "~=3.10",
    "==3.*", ">=3.10a1", "===3.11.7", ">=3.10,", ",>=3.10", ">=", "3.10", ">=3.10.", "> = 3.10", ">=3.10;",
    ">=03.010", "<3.11.0",
]  # fmt: skip
VERSIONS = ["3.8.18", "3.9.0", "3.10.0", "3.10.13", "3.11.0", "3.11.7", "3.12.1", "3.13.0", "3.13.0rc1", "4.0.0", "3"]


@pytest.mark.parametrize("specifier", SPECIFIERS)
def test_a_plain_specifier_is_valid_for_packaging(specifier: str) -> None:
    clauses = requirements.plain_specifier(specifier)
    try:
        SpecifierSet(specifier)
    except InvalidSpecifier:
        assert clauses is None, f"{specifier!r} is invalid, but read as plain"


@pytest.mark.parametrize(("specifier", "version"), list(itertools.product(SPECIFIERS, VERSIONS)))
def test_fits_answers_as_packaging(specifier: str, version: str) -> None:
    try:
        expected = SpecifierSet(specifier).contains(version, prereleases=True)
    except InvalidSpecifier:
        return  # never asked: the block's requires-python is validated first
    assert requirements.fits(specifier, version) is expected
    assert requirements.fits(specifier or None, version) is expected


def test_the_usual_requires_python_is_plain() -> None:
    for text in (">=3.10", ">=3.9,<3.13", ">= 3.8"):
        assert requirements.plain_specifier(text) is not None, text


def test_packagings_classes_are_still_named_here() -> None:
    assert requirements.InvalidRequirement is InvalidRequirement
    assert requirements.Requirement is Requirement
    with pytest.raises(AttributeError):
        requirements.NoSuchName  # noqa: B018


def test_reading_a_plain_block_imports_no_packaging(tmp_path: Path) -> None:
    """The cold path's reading of a script, choice of interpreter and key, in a fresh interpreter."""
    script = tmp_path / "s.py"
    script.write_text('# /// script\n# requires-python = ">=3.8"\n# dependencies = ["Requests==2.32.3", "six"]\n'
                      "# ///\nprint(1)\n", encoding="utf-8")  # fmt: skip
    code = (
        "import sys\n"
        "from reprorun.envs import keys, selection\n"
        "from reprorun.script import metadata, requirements\n"
        f"meta = metadata.parse(open({str(script)!r}).read(), 's.py')\n"
        "assert meta.dependencies == ('Requests==2.32.3', 'six'), meta\n"
        "assert selection.select is not None and requirements.fits(meta.requires_python, '3.11.7')\n"
        "assert [keys.normalize_requirement(r) for r in meta.dependencies] == ['requests==2.32.3', 'six']\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'packaging'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


def test_an_invalid_requirement_is_still_refused_on_its_line(tmp_path: Path) -> None:
    from reprorun.errors import MetadataError
    from reprorun.script import metadata

    text = '# /// script\n# requires-python = ">=3.10"\n# dependencies = ["foo-"]\n# ///\n'
    with pytest.raises(MetadataError) as caught:
        metadata.parse(text, "s.py")
    assert caught.value.line == 3
    assert "invalid requirement 'foo-'" in str(caught.value)


def test_an_invalid_requires_python_is_still_refused(tmp_path: Path) -> None:
    from reprorun.errors import MetadataError
    from reprorun.script import metadata

    for bad in ("3.10", ">=", "> = 3.10", ">=3.10;"):
        with pytest.raises(MetadataError, match="not a valid version specifier"):
            metadata.parse(f'# /// script\n# requires-python = "{bad}"\n# ///\n', "s.py")
