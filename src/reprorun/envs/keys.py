"""Cache keys: a canonical, versioned JSON document of everything that decides an env's contents.

Two blocks that ask for the same thing in other words (order, case, spacing, `Foo_Bar` vs
`foo-bar`) give the same document and so share one environment. The key is the sha256 of the
document's canonical JSON, and the document is stored beside the env so anyone can see why two
runs did or did not share it. Pure: no file system.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from reprorun.envs.installers.sources import Sources
from reprorun.envs.interpreters import Interpreter, sha256_hex
from reprorun.script import requirements
from reprorun.script.requirements import canonicalize

KEY_VERSION = 1


def normalize_requirement(text: str) -> str:
    """One spelling per meaning (see `requirements.normalize`)."""
    return requirements.normalize(text)


def document(
    requirements: Iterable[str],
    interpreter: Interpreter,
    sources: Sources,
    hashes: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, Any]:
    """The key document; `--offline` is not part of it (it decides whether, not what, to build)."""
    doc: dict[str, Any] = {
        "version": KEY_VERSION,
        "requirements": sorted({normalize_requirement(r) for r in requirements}),
        "python": {
            "implementation": interpreter.implementation,
            "version": interpreter.version,
            "abi": interpreter.abi,
            "platform": interpreter.platform_tag,
            "executable": interpreter.executable,
        },
        "sources": {
            "index-url": sources.index_url,
            "extra-index-urls": list(sources.extra_index_urls),
            "find-links": list(sources.find_links),
            "no-index": sources.no_index,
        },
        "exclude-newer": sources.exclude_newer,
        "hashes": {
            canonicalize(name): sorted(values) for name, values in sorted((hashes or {}).items())
        },
    }
    doc["sources"].update(_site_sources(sources))
    return doc


def _site_sources(sources: Sources) -> dict[str, Any]:
    """The sources that only pip's configuration or `--no-build` set, each only when set: a key
    made before they existed stays the same for the same env."""
    found: dict[str, Any] = {
        "trusted-hosts": list(sources.trusted_hosts),
        "constraints": list(sources.constraints_sha256),
        "only-binary": list(sources.only_binary),
        "no-binary": list(sources.no_binary),
        "pre": sources.pre,
        "no-build": sources.no_build,
        "pip-only": {name: value for name, value, _ in sources.pip_only},
    }
    return {name: value for name, value in found.items() if value}


def canonical_json(doc: Mapping[str, Any]) -> str:
    """The exact text that is hashed: sorted keys, no insignificant white space."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def digest(doc: Mapping[str, Any]) -> str:
    """The key: sha256 of the canonical JSON."""
    return sha256_hex(canonical_json(doc).encode("ascii"))
