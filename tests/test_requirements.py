"""script/requirements.py: PEP 508 text parsed once, names, exact pins, looseness, one spelling per meaning."""

from __future__ import annotations

import pytest

from reprorun.script import requirements
from reprorun.script.requirements import InvalidRequirement, Requirement


def test_parse_is_cached_same_object() -> None:
    text = "reprorun-test-cached[x]>=1"
    first = requirements.parse(text)
    assert requirements.parse(text) is first
    assert isinstance(first, Requirement)


def test_parse_caches_by_exact_text() -> None:
    a = requirements.parse("Cached-Name>=1")
    b = requirements.parse("cached_name>=1")
    assert a is not b
    assert str(a.specifier) == str(b.specifier)


def test_parse_raises_packagings_error() -> None:
    with pytest.raises(InvalidRequirement):
        requirements.parse("not a requirement ===")


def test_an_invalid_text_is_not_cached_as_valid() -> None:
    for _ in range(2):
        with pytest.raises(InvalidRequirement):
            requirements.parse("bad[")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Foo_Bar[x]>=1", "foo-bar"),
        ("foo.bar", "foo-bar"),
        ("FOO---bar==1", "foo-bar"),
        ("pkg @ https://example.invalid/pkg-1.0.tar.gz", "pkg"),
        ('pkg; python_version < "3.12"', "pkg"),
    ],
)
def test_canonical_name(text: str, name: str) -> None:
    assert requirements.canonical_name(text) == name


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("a==1.0", "1.0"),
        ("a===1.0", "1.0"),
        ("a[x]==2.0.post1", "2.0.post1"),
        ('a==1.0; python_version >= "3"', "1.0"),
        ("a==1.*", None),
        ("a>=1", None),
        ("a", None),
        ("a==1,<2", None),
        ("a~=1.0", None),
        ("a!=1.0", None),
        ("a @ https://example.invalid/a-1.0.tar.gz", None),
    ],
)
def test_exact_version(text: str, version: str | None) -> None:
    assert requirements.exact_version(requirements.parse(text)) == version


@pytest.mark.parametrize(
    ("text", "loose"),
    [
        ("a", True),
        ("a>=1", True),
        ("a==1.*", True),
        ("a==1,<2", True),
        ("a==1.0", False),
        ("a===1.0", False),
        ("a @ https://example.invalid/a-1.0.tar.gz", False),
        ("a @ file:///wheels/a-1.0-py3-none-any.whl", False),
    ],
)
def test_is_loose(text: str, loose: bool) -> None:
    assert requirements.is_loose(text) is loose


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Foo_Bar", "foo-bar"),
        ("foo[b,a]", "foo[A,B]"),
        ("foo>=1,<2", "foo<2,>=1"),
        ("foo >= 1", "foo>=1"),
        ('foo; python_version<"3.12"', "foo ; python_version < '3.12'"),
        ("foo[x_y]", "foo[x-y]"),
        ("foo @ https://example.invalid/f.whl", "Foo @ https://example.invalid/f.whl"),
    ],
)
def test_normalize_equivalences(a: str, b: str) -> None:
    assert requirements.normalize(a) == requirements.normalize(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("foo>=1", "foo>=2"),
        ("foo", "foo[x]"),
        ("foo", "bar"),
        ('foo; python_version<"3.12"', "foo"),
        ("foo @ https://example.invalid/a.whl", "foo @ https://example.invalid/b.whl"),
    ],
)
def test_normalize_keeps_differences(a: str, b: str) -> None:
    assert requirements.normalize(a) != requirements.normalize(b)


def test_normalize_spelling() -> None:
    assert requirements.normalize("Foo_Bar[Y,x]<2,>=1") == "foo-bar[x,y]<2,>=1"
    assert requirements.normalize('A; sys_platform == "linux"') == 'a ; sys_platform == "linux"'
    assert requirements.normalize("A @ https://example.invalid/a.whl") == "a @ https://example.invalid/a.whl"


def test_normalize_is_idempotent() -> None:
    for text in ("Foo_Bar[Y,x]<2,>=1", 'a; os_name=="posix"', "b @ https://example.invalid/b.whl"):
        once = requirements.normalize(text)
        assert requirements.normalize(once) == once


def test_every_name_in_all_is_exported() -> None:
    for name in requirements.__all__:
        assert hasattr(requirements, name), name
