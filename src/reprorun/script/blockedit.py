"""Edit a script's `script` block as text: pure functions from old text to new text.

Only the block's span ever changes. Inside it, lines whose content is unchanged keep their exact
bytes (prefix, line ending); new lines take the line ending of the block's opening line. The TOML
is edited with `tomlkit`, which keeps the user's formatting and comments; it is imported inside
the functions that need it, so importing this module costs nothing on the run path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reprorun.script.blocks import Block, split_lines

if TYPE_CHECKING:
    from tomlkit import TOMLDocument

INDENT = "    "
WIDTH = 100  # the widest single-line `requested` array, counted with its "# " prefix
_LINE_END = re.compile(r"\r\n|\r|\n")
_ENCODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+")
_VIA = re.compile(r"^via [^;]*(?:;\s*(?P<rest>.*))?$")


@dataclass(frozen=True)
class Line:
    """One item of a rendered `dependencies` array: a requirement and its trailing comment."""

    requirement: str
    comment: str | None = None


@dataclass(frozen=True)
class FrozenFields:
    """What `[tool.reprorun]` records for a frozen block; `hashes=None` leaves no hashes table."""

    requested: tuple[str, ...]
    frozen_for: str
    exclude_newer: str | None = None
    hashes: Mapping[str, tuple[str, ...]] | None = None
    targets: tuple[str, ...] | None = None  # `--for` targets; None leaves the key as it is


# --- the block as text -------------------------------------------------------------------------


def newline_of(text: str, at: int = 0) -> str:
    """The line ending of the line that starts at `at` (LF when it has none)."""
    match = _LINE_END.search(text, at)
    return match.group() if match else "\n"


def render_block(content: str, newline: str = "\n") -> str:
    """A whole `# /// script` ... `# ///` block for TOML content, without a final line ending."""
    lines = ["# /// script", *(_comment(line) for line in _content_lines(content)), "# ///"]
    return newline.join(lines)


def replace_block(text: str, block: Block, content: str) -> str:
    """The text with the block's content replaced; every byte outside the block is kept."""
    old = _with_endings(text[block.start : block.end])
    newline = old[0][1] or "\n"
    old_middle = old[1:-1]
    new_middle = _content_lines(content)
    keys = [line[2:] if line.startswith("# ") else "" for line, _ in old_middle]
    out: list[tuple[str, str]] = [old[0]]
    # The lines the edit left alone at both ends are kept as they are, in linear time; only the
    # changed middle is diffed (difflib is quadratic on many equal lines: 20,000 took 44 s).
    lo, hi = _common_ends(keys, new_middle)
    out.extend(old_middle[:lo])
    changed_old, changed_new = keys[lo : len(keys) - hi], new_middle[lo : len(new_middle) - hi]
    if len(changed_old) * len(changed_new) > _DIFF_LIMIT:  # a rewrite, not an edit: new lines
        out.extend((_comment(line), newline) for line in changed_new)
    else:
        matcher = difflib.SequenceMatcher(a=changed_old, b=changed_new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                out.extend(old_middle[lo + i1 : lo + i2])
            else:
                out.extend((_comment(line), newline) for line in changed_new[j1:j2])
    out.extend(old_middle[len(keys) - hi :])
    out.append((old[-1][0], ""))
    return text[: block.start] + "".join(line + end for line, end in out) + text[block.end :]


_DIFF_LIMIT = 1_000_000  # line pairs difflib may compare in the changed part of a block


def _common_ends(old: list[str], new: list[str]) -> tuple[int, int]:
    """How many lines the two lists share at their start, and then at their end."""
    most = min(len(old), len(new))
    lo = 0
    while lo < most and old[lo] == new[lo]:
        lo += 1
    hi = 0
    while hi < most - lo and old[-1 - hi] == new[-1 - hi]:
        hi += 1
    return lo, hi


def insert_block(text: str, content: str) -> str:
    """The text with a new block inserted after its shebang, encoding line and jupytext header."""
    lines = split_lines(text)
    newline = newline_of(text)
    block = render_block(content, newline)
    if not lines:
        return block + newline
    index = _insertion_index([line for _, line in lines])
    before_blank = False
    if index > 0 and _is_jupytext_end(lines, index):
        before_blank = True
    if index >= len(lines):  # nothing after the header: append, keeping a missing final newline
        ends_with_newline = text.endswith(("\n", "\r"))
        joiner = "" if ends_with_newline else newline
        blank = newline if before_blank else ""
        return text + joiner + blank + block + (newline if ends_with_newline else "")
    offset = lines[index][0] + (1 if index == 0 and text.startswith("\ufeff") else 0)
    after_blank = lines[index][1].strip() != ""
    return (
        text[:offset]
        + (newline if before_blank else "")
        + block
        + newline
        + (newline if after_blank else "")
        + text[offset:]
    )


def _insertion_index(lines: list[str]) -> int:
    """First line after the shebang, the PEP 263 encoding line and a jupytext YAML header."""
    first = lines[0].lstrip("\ufeff")
    index = 1 if first.startswith("#!") else 0
    # PEP 263: the encoding line is line 1, or line 2 when line 1 is a comment (a shebang).
    if len(lines) > 1 and first.startswith("#") and _ENCODING.match(lines[1]):
        index = 2
    elif _ENCODING.match(first):
        index = 1
    if index < len(lines) and lines[index].lstrip("\ufeff").rstrip() == "# ---":
        for end in range(index + 1, len(lines)):
            if lines[end].rstrip() == "# ---":
                index = end + 1
                while index < len(lines) and not lines[index].strip():
                    index += 1
                break
            if not lines[end].startswith("#"):
                break
    return index


def _is_jupytext_end(lines: list[tuple[int, str]], index: int) -> bool:
    previous = lines[index - 1][1].rstrip()
    return previous == "# ---" and index - 1 > 0


def _with_endings(text: str) -> list[tuple[str, str]]:
    pieces: list[tuple[str, str]] = []
    position = 0
    for match in _LINE_END.finditer(text):
        pieces.append((text[position : match.start()], match.group()))
        position = match.end()
    pieces.append((text[position:], ""))
    return pieces


def _content_lines(content: str) -> list[str]:
    return content[:-1].split("\n") if content.endswith("\n") else content.split("\n") if content else []


def _comment(line: str) -> str:
    return "# " + line if line else "#"


# --- TOML values -------------------------------------------------------------------------------


def toml_string(value: str) -> str:
    """A TOML string for value: basic when it needs no escapes, else literal, else escaped."""
    if not re.search(r'["\\\x00-\x1f\x7f]', value):
        return f'"{value}"'
    if "'" not in value and not re.search(r"[\x00-\x1f\x7f]", value):
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'


def render_array(key: str, lines: Sequence[Line], *, inline_if_fits: bool = False) -> str:
    """`key = [...]`: one item per line (each with its comment), or `[]`, or inline if asked."""
    if not lines:
        return f"{key} = []\n"
    if inline_if_fits and all(line.requirement and not line.comment for line in lines):
        inline = f"{key} = [{', '.join(toml_string(line.requirement) for line in lines)}]"
        if len(inline) + 2 <= WIDTH:
            return inline + "\n"
    body = "".join(
        f"{INDENT}# {line.comment}\n" if not line.requirement else
        f"{INDENT}{toml_string(line.requirement)}," + (f"  # {line.comment}" if line.comment else "") + "\n"
        for line in lines
    )  # fmt: skip
    return f"{key} = [\n{body}]\n"


@dataclass(frozen=True)
class ItemComments:
    """The comments a user wrote inside an array: on an item's line, and on lines of their own."""

    by_item: tuple[tuple[str, str], ...]  # (item, comment) in order
    standalone: tuple[str, ...]

    def user_part(self, comment: str) -> str | None:
        """The part of a comment that is the user's own (reprorun's `via ...` prefix removed)."""
        match = _VIA.match(comment)
        if match is None:
            return comment
        return match.group("rest") or None


def array_comments(content: str, key: str = "dependencies") -> ItemComments:
    """The comments inside a top-level array of the block's TOML (empty when there is none)."""
    import tomlkit

    doc = tomlkit.parse(content)
    if key not in doc:
        return ItemComments((), ())
    return _scan_array(doc[key].as_string())


def _scan_array(text: str) -> ItemComments:
    """Walk an array's TOML text: strings, commas, comments and newlines."""
    import tomlkit

    by_item: list[tuple[str, str]] = []
    standalone: list[str] = []
    last_on_line: str | None = None
    i = 1  # skip "["
    while i < len(text):
        char = text[i]
        if char == "\n":
            last_on_line = None
            i += 1
        elif char in "\"'":
            end = _string_end(text, i)
            last_on_line = str(tomlkit.parse("v = " + text[i:end])["v"])
            i = end
        elif char == "#":
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            comment = text[i + 1 : end].strip()
            if last_on_line is not None:
                by_item.append((last_on_line, comment))
            elif comment:
                standalone.append(comment)
            i = end
        else:
            i += 1
    return ItemComments(tuple(by_item), tuple(standalone))


def _string_end(text: str, start: int) -> int:
    quote = text[start]
    if text.startswith(quote * 3, start):
        end = text.find(quote * 3, start + 3)
        while text.startswith(quote, end + 3):  # up to two quotes may close the content
            end += 1
        return end + 3
    i = start + 1
    while i < len(text) and text[i] != quote:
        i += 2 if quote == '"' and text[i] == "\\" else 1
    return i + 1


# --- freezing ----------------------------------------------------------------------------------


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
