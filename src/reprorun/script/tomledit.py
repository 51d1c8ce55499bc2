"""Edits of a block's TOML content with `tomlkit`: freezing it, adding and removing requirements.

Pure functions from old content to new content; the user's formatting and comments are kept.
`tomlkit` and `packaging` are imported inside the functions that need them, so importing this
module costs nothing on the run path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reprorun.script.tomlrender import Line, render_array, toml_string

if TYPE_CHECKING:
    from tomlkit import TOMLDocument


@dataclass(frozen=True)
class FrozenFields:
    """What `[tool.reprorun]` records for a frozen block; `hashes=None` leaves no hashes table."""

    requested: tuple[str, ...]
    frozen_for: str
    exclude_newer: str | None = None
    hashes: Mapping[str, tuple[str, ...]] | None = None
    targets: tuple[str, ...] | None = None  # `--for` targets; None leaves the key as it is



def freeze_content(content: str, lines: Sequence[Line], fields: FrozenFields) -> str:
    """The block's TOML with `dependencies` and `[tool.reprorun]` set; everything else kept."""
    import tomlkit

    doc = tomlkit.parse(content)
    _set_array(doc, "dependencies", lines)
    table = _reprorun_table(doc)
    requested = list(fields.requested)
    if table.get("requested") != requested:
        item = tomlkit.parse(render_array("requested", [Line(r) for r in requested],
                                          inline_if_fits=True))["requested"]  # fmt: skip
        table["requested"] = item
    if fields.targets is not None and table.get("targets") != list(fields.targets):
        table["targets"] = tomlkit.parse(render_array("targets", [Line(t) for t in fields.targets],
                                                      inline_if_fits=True))["targets"]  # fmt: skip
    for key, value in (("frozen-for", fields.frozen_for), ("exclude-newer", fields.exclude_newer)):
        if value is None or table.get(key) == value:
            continue
        table[key] = value
    if fields.hashes is not None:
        hashes = {name: list(values) for name, values in sorted(fields.hashes.items())}
        if table.get("hashes") != hashes:
            if "hashes" in table:
                del table["hashes"]
            new = tomlkit.table()
            for name, values in hashes.items():
                new[name] = values
            table["hashes"] = new
    return _checked(tomlkit.dumps(doc))


def _set_array(doc: TOMLDocument, key: str, lines: Sequence[Line]) -> None:
    import tomlkit

    rendered = render_array(key, lines)
    if key in doc and doc[key].as_string() + "\n" == rendered[len(key) + 3 :]:
        return
    doc[key] = tomlkit.parse(rendered)[key]


def _reprorun_table(doc: TOMLDocument) -> Any:  # noqa: ANN401 - a tomlkit container
    import tomlkit

    if "tool" not in doc:
        doc["tool"] = tomlkit.table(is_super_table=True)
    tool = doc["tool"]
    if "reprorun" not in tool:
        tool["reprorun"] = tomlkit.table()
    return tool["reprorun"]


# --- add and remove ----------------------------------------------------------------------------


def new_content(requirements: Sequence[str], requires_python: str | None = None) -> str:
    """The TOML of a new block: `requires-python` when given, and one dependency per line."""
    head = f"requires-python = {toml_string(requires_python)}\n" if requires_python else ""
    return head + render_array("dependencies", [Line(r) for r in requirements])


def add_requirements(content: str, requirements: Sequence[str], path: Sequence[str]) -> str:
    """Add requirements to the array at path (replacing one of the same name); formatting kept."""
    import tomlkit

    doc = tomlkit.parse(content)
    array = _array_at(doc, path, create=True)
    for requirement in requirements:
        index = _find(array, requirement)
        if index is None:
            array.append(requirement)
        elif array[index] != requirement:
            array[index] = requirement
    return _checked(tomlkit.dumps(doc))


def remove_requirements(content: str, names: Sequence[str], path: Sequence[str]) -> tuple[str, list[str]]:
    """Remove every item naming one of `names` from the array at path; return what was removed."""
    import tomlkit
    from packaging.utils import canonicalize_name

    doc = tomlkit.parse(content)
    array = _array_at(doc, path, create=False)
    wanted = {canonicalize_name(name) for name in names}
    removed: list[str] = []
    if array is not None:
        indexes = [index for index in range(len(array)) if _name(str(array[index])) in wanted]
        removed = [str(array[index]) for index in indexes]
        # One slice per run of neighbours, last run first: tomlkit reindexes the whole array after
        # every deletion, so deleting items one by one is quadratic (20,000 items: minutes).
        runs: list[list[int]] = []
        for index in indexes:
            if runs and runs[-1][1] == index:
                runs[-1][1] = index + 1
            else:
                runs.append([index, index + 1])
        for start, stop in reversed(runs):
            del array[start:stop]
    return _checked(tomlkit.dumps(doc)), removed


def _array_at(doc: TOMLDocument, path: Sequence[str], *, create: bool) -> Any:  # noqa: ANN401
    import tomlkit

    container: Any = doc
    for part in path[:-1]:
        if part not in container:
            if not create:
                return None
            container[part] = tomlkit.table(is_super_table=part == "tool")
        container = container[part]
    if path[-1] not in container:
        if not create:
            return None
        container[path[-1]] = tomlkit.parse(render_array(path[-1], []))[path[-1]]
    array = container[path[-1]]
    if len(array) == 0 and "\n" not in array.as_string():
        array.multiline(True)  # an empty `[]` grows one item per line, as uv and reprorun write it
    return array


def _find(array: Sequence[Any], requirement: str) -> int | None:
    """The item the new requirement replaces: same name and the same marker (or neither has one)."""
    from packaging.requirements import Requirement

    new = Requirement(requirement)
    for index, item in enumerate(array):
        old = Requirement(str(item))
        if _name(str(item)) == _name(requirement) and str(old.marker) == str(new.marker):
            return index
    return None


def _name(requirement: str) -> str:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    return canonicalize_name(Requirement(requirement).name)


def _checked(content: str) -> str:
    """Content that is valid TOML (a bug here must never reach the user's file)."""
    import tomlkit

    tomlkit.parse(content)
    return content
