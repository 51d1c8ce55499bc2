"""Cache keys: canonical documents, equivalence of spellings, and one pinned digest."""

from __future__ import annotations

import pytest

from reprorun.envs import keys
from reprorun.envs.installers.sources import Sources
from reprorun.envs.interpreters import Interpreter

PY = Interpreter("/usr/bin/python3.11", "cpython", "3.11.7", "cp311", "linux-x86_64", "manylinux_2_36_x86_64")


def digest(requirements, interpreter=PY, sources=None, hashes=None):
    return keys.digest(keys.document(requirements, interpreter, sources or Sources(), hashes))


def test_golden_digest():
    # Changing this digest orphans every cached env: bump KEY_VERSION on purpose, then update it.
    doc = keys.document(["pandas>=2", "numpy"], PY, Sources(), None)
    assert keys.canonical_json(doc) == (
        '{"exclude-newer":null,"hashes":{},"python":{"abi":"cp311","executable":"/usr/bin/python3.11",'
        '"implementation":"cpython","platform":"manylinux_2_36_x86_64","version":"3.11.7"},'
        '"requirements":["numpy","pandas>=2"],"sources":{"extra-index-urls":[],"find-links":[],'
        '"index-url":null,"no-index":false},"version":1}'
    )
    assert keys.digest(doc) == "e83a78c27f18c23ed515b47fc16b209409d624ec72e4353ab353d6937f8f444a"


@pytest.mark.parametrize(
    ("one", "two"),
    [
        (["Foo_Bar"], ["foo-bar"]),
        (["A", "b"], ["b", "a"]),
        (["alpha>=1,<3"], ["alpha <3, >= 1"]),
        (["x[B,a]"], ["X[a,b]"]),
        (["x; python_version<'3.12'"], ['x ; python_version < "3.12"']),
        (["alpha", "alpha"], ["alpha"]),
    ],
)
def test_equivalent_spellings_share_a_key(one, two):
    assert digest(one) == digest(two)


@pytest.mark.parametrize(
    "other",
    [
        {"requirements": ["alpha>=2"]},
        {
            "interpreter": Interpreter(
                "/usr/bin/python3.12", "cpython", "3.12.1", "cp312", "linux-x86_64", "manylinux_2_36_x86_64"
            )
        },
        {"sources": Sources(index_url="https://example.invalid/simple")},
        {"sources": Sources(find_links=("/wheels",))},
        {"sources": Sources(no_index=True)},
        {"sources": Sources(exclude_newer="2024-01-01")},
        {"hashes": {"alpha": ("sha256:" + "0" * 64,)}},
    ],
)
def test_what_decides_contents_changes_the_key(other):
    base = {"requirements": ["alpha>=1"]}
    assert digest(**base) != digest(**{**base, **other})


def test_offline_does_not_change_the_key():
    assert digest(["alpha"], sources=Sources(offline=True)) == digest(["alpha"])
