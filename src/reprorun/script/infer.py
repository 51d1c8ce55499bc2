"""Infer a script's requirements from its `%pip install` lines, its imports and its PEP 722 comment.

Pure functions over text: `infer(text, ...)` returns an `Inference` (what to put in the block, why,
what is unknown, what could not be adopted), `pip_installs(text)` parses the install lines, and
`comment_out_pip_lines(text)` marks adopted lines as such. The one look at the environment,
`importnames.installed_distributions()`, is the caller's to pass in as `installed`.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from reprorun.script import importnames, metadata

ADOPTED_NOTE = "# reprorun: adopted into the script block: "

# `%pip install`, `!pip3 install`, `!python -m pip install`, `!{sys.executable} -m pip install`,
# `%conda install`, `!uv pip install`, commented as jupytext keeps them (`# %pip install x`).
_INSTALL = re.compile(
    r"""^(?P<indent>[ \t]*)(?:pass[ \t]+)?(?P<comment>\#[ \t]*)?
        (?:reprorun:\ adopted\ into\ the\ script\ block:\ )?
        (?P<sigil>[%!])[ \t]*
        (?P<tool>pip3?|uv[ \t]+pip|conda|mamba|micromamba
           |(?:\S*/)?python(?:3(?:\.\d+)?)?[ \t]+-m[ \t]+pip|\{sys\.executable\}[ \t]+-m[ \t]+pip)
        [ \t]+install\b(?P<args>.*)$""",
    re.VERBOSE,
)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_IGNORED_OPTIONS = {
    "-q", "--quiet", "-U", "--upgrade", "--user", "--no-cache-dir", "--force-reinstall",
    "--no-warn-script-location", "--disable-pip-version-check", "-y", "--yes", "--quiet-all",
    "-v", "--verbose", "--progress-bar", "--upgrade-strategy", "--no-input",
}  # fmt: skip
_OPTIONS_WITH_VALUE = {
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
    "--extra-index-url", "-f", "--find-links", "--channel", "--progress-bar",
    "--upgrade-strategy", "-t", "--target", "--prefix", "--python",
}  # fmt: skip
_CONDA_TO_PYPI = {"pytorch": "torch", "py-opencv": "opencv-python", "opencv": "opencv-python",
                  "python-graphviz": "graphviz", "pytables": "tables", "tensorflow-gpu": "tensorflow"}  # fmt: skip
# Packages of conda's own (no PyPI distribution does their job), and the channels whose packages
# carry PyPI's names; a package from any other channel (`-c plotly`, `bioconda::x`) is conda-only.
_CONDA_ONLY = {
    "python", "pip", "cudatoolkit", "cuda-toolkit", "cuda-nvcc", "cuda", "pytorch-cuda", "pytorch-mutex",
    "cpuonly", "cudnn", "nccl", "magma", "mkl", "mkl-service", "blas", "openblas", "libblas", "nodejs",
    "r-base", "ffmpeg", "plotly-orca", "orca", "graphviz", "poppler", "tesseract", "openjdk", "gcc", "gxx",
    "compilers", "cxx-compiler", "make", "git", "libgdal", "proj", "geos", "hdf5", "libnetcdf", "openmpi",
    "mpich", "perl", "jupyterlab_widgets-nodejs", "xorg-libx11", "pandoc", "imagemagick",
}  # fmt: skip
_CONDA_ONLY_PREFIXES = ("r-", "bioconductor-", "perl-", "xorg-")
_CONDA_DEFAULT_CHANNELS = {"defaults", "conda-forge", "anaconda", "main", "pkgs/main", "pkgs/free", "free"}
_MAGIC_LINE = re.compile(r"^[ \t]*(%%?\w|!|[\w.]+ *= *!|\?|[\w.]+\?\??[ \t]*$)")


@dataclass(frozen=True)
class PipInstall:
    """One install line: its line number, the requirements it names and what it could not adopt."""

    line: int
    command: str  # as written, normalised: "%pip install", "!conda install", "# !pip install"
    requirements: tuple[str, ...]
    problems: tuple[str, ...]


@dataclass(frozen=True)
class Inference:
    """What `reprorun init --infer` proposes: requirements (sorted), why each, and what is unclear.

    `requirements` are PEP 508 strings, one per canonical name (block or PEP 722 entries first,
    then `%pip` lines, then imports); `reasons` maps each requirement's canonical name to why it is
    there; `unknown` holds import names nobody could map; `pip_lines` the 1-based lines of the
    install lines whose requirements were adopted; `problems` everything left out, with its line;
    `guessed` the requirements proposed under the import's own name (for the user to confirm).
    """

    requirements: tuple[str, ...] = ()
    reasons: Mapping[str, str] = field(default_factory=dict)
    unknown: tuple[str, ...] = ()
    pip_lines: tuple[int, ...] = ()
    problems: tuple[str, ...] = ()
    guessed: tuple[str, ...] = ()  # canonical names proposed only because the import has that name


def infer(
    text: str,
    path: str = "<script>",
    *,
    local: Collection[str] = (),
    installed: Mapping[str, list[str]] | None = None,
    where: Callable[[int], str] = "line {}".format,
) -> Inference:
    """Infer the requirements of a script (or of a notebook's code cells joined as text).

    `local` holds top-level names of the script's own modules (`importnames.local_modules`),
    `installed` the current environment's import->distribution map (`importnames.
    installed_distributions()`), or None to consult only reprorun's table. An import neither
    the table, the install lines nor the environment explain is proposed under its own name when
    that is a valid distribution name (`kagglehub`, `pytorch_lightning`), marked "guessed: same
    name"; it is unknown only when several installed distributions provide it.
    `where` names a line in messages (`notebooks.locator(raw)` names a notebook's cell and line).
    Raise `MetadataError` if the script's existing block is invalid.
    """
    chosen: dict[str, tuple[str, str]] = {}  # canonical name -> (requirement, reason)
    problems: list[str] = []
    existing = metadata.parse(text, path)
    for requirement in existing.dependencies:
        kind = "the script block" if existing.source == "pep723" else "the PEP 722 comment"
        chosen[_canonical(requirement)] = (requirement, f"already in {kind}")
    pip_lines = _adopt_pip_lines(text, chosen, problems, where)
    adopted = {name for name, (_, reason) in chosen.items() if not reason.startswith("already")}
    unknown: list[str] = []
    guessed: list[str] = []
    imports = sorted(find_imports(text, problems, where), key=lambda found: found[2])  # optional last
    for module, line, optional in imports:
        top = importnames.top_level(module)
        if importnames.is_stdlib(module) or top in local:
            continue
        if any(p in chosen for p in importnames.providers(module)):
            continue
        if optional:
            problems.append(f"{where(line)}: 'import {module}' is inside try/except ImportError: left out")
            continue
        if importnames.lookup(module) is None and _adopted_provider(module, adopted):
            continue  # `import tensorflow_serving` with `%pip install tensorflow-serving-api`
        found = _distribution(module, installed)
        if found is None:
            problems.extend(_ambiguity(module, where(line), installed))
            unknown.extend([top] if top not in unknown else [])
        elif canonicalize_name(found[0]) not in chosen:
            why = f"import {module} ({where(line)}): {found[1]}"
            if found[1] == GUESSED:
                why = f"{GUESSED}: import {module} ({where(line)}): not in reprorun's table, not installed here"
                guessed.append(canonicalize_name(found[0]))
            chosen[canonicalize_name(found[0])] = (found[0], why)
    ordered = sorted(chosen.items())
    return Inference(
        requirements=tuple(requirement for _, (requirement, _) in ordered),
        reasons={name: reason for name, (_, reason) in ordered},
        unknown=tuple(unknown),
        pip_lines=tuple(pip_lines),
        problems=tuple(dict.fromkeys(problems)),
        guessed=tuple(guessed),
    )


def _adopted_provider(module: str, adopted: Collection[str]) -> bool:
    """Whether an adopted install line names a distribution that, by its name, provides the
    module: `tensorflow-serving-api` for `tensorflow_serving`, `python-foo` or `foo-client` for
    `foo` (only asked for imports reprorun's table does not know)."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        name = canonicalize_name("-".join(parts[:end]))
        if any(a == name or a.startswith(name + "-") or a in (f"python-{name}", f"py{name}") for a in adopted):
            return True
    return False


def _adopt_pip_lines(
    text: str, chosen: dict[str, tuple[str, str]], problems: list[str], where: Callable[[int], str]
) -> list[int]:
    """Add the install lines' requirements to `chosen` (a later line wins); their line numbers."""
    pip_lines = []
    for install in pip_installs(text):
        problems.extend(f"{where(install.line)}: {p}" for p in install.problems)
        if install.requirements:
            pip_lines.append(install.line)
        for requirement in install.requirements:
            name = _canonical(requirement)
            previous = chosen.get(name)
            if previous and previous[1].startswith("already"):
                continue
            if previous and previous[0] != requirement:
                problems.append(f"{where(install.line)}: {requirement!r} replaces {previous[0]!r} of an earlier line")
            chosen[name] = (requirement, f"'{install.command}' ({where(install.line)})")
    return pip_lines


def _ambiguity(module: str, line: str, installed: Mapping[str, list[str]] | None) -> list[str]:
    candidates = sorted(set(installed.get(importnames.top_level(module), ()))) if installed else []
    if len(candidates) < 2:
        return []
    return [f"{line}: '{module}' is provided by several installed distributions ({', '.join(candidates)})"]


def pip_installs(text: str) -> list[PipInstall]:
    """Every `pip`/`conda install` line of the text, parsed; commented ones too."""
    found: list[PipInstall] = []
    for number, line in enumerate(_lines(text), start=1):
        match = _INSTALL.match(line.rstrip("\r\n"))
        if match:
            found.append(_parse_install(number, match))
    return found


def install_hint(text: str, path: str, notebook: bool = False) -> tuple[str, str] | None:
    """For a script without a block: (message, hint) naming what its install lines ask for and
    the command that adopts them, or None when it has no such line. Cheap when there is none."""
    if "install" not in text:
        return None
    wanted = [r for install in pip_installs(text) if ADOPTED_NOTE.strip() not in install.command
              for r in install.requirements]  # fmt: skip
    if not wanted:
        return None
    names = ", ".join(dict.fromkeys(_canonical(r) for r in wanted))
    hint = f"adopt them into a script block with: reprorun init --infer {path}"
    if notebook:
        hint += f" (or build from them once: reprorun --infer {path})"
    return f"{path} has no script block, but its install lines ask for: {names}", hint


def tell_install_lines(text: str, path: str) -> bool:
    """Warn (stderr, through logging) when a script or notebook without a block has install lines:
    the packages they name and the command that adopts them; whether it did (issue 16)."""
    import logging

    from reprorun.script import notebooks

    notebook = path.endswith(".ipynb")
    found = install_hint(notebooks.code_text(text, path) if notebook else text, path, notebook)
    if found:
        logging.getLogger("reprorun").warning("%s", found[0])
        logging.getLogger("reprorun").warning("hint: %s", found[1])
    return found is not None


def comment_out_pip_lines(text: str, lines: Collection[int] | None = None) -> str:
    """The text with adopted install lines (all, or those numbered) marked, never deleted.

    A live line becomes `# reprorun: adopted into the script block: %pip install x` (after `pass`
    when it is indented, so its block stays valid); a commented one gets the note too; a line
    already carrying the note is left as it is. Line endings and every other line are kept.
    """
    out = []
    for number, line in enumerate(_lines(text), start=1):
        body = line.rstrip("\r\n")
        match = _INSTALL.match(body)
        if match and (lines is None or number in lines) and ADOPTED_NOTE.strip() not in body:
            indent = match.group("indent")
            code = body[len(indent) :]
            if match.group("comment"):
                code = code[len(match.group("comment")) :]
            prefix = f"{indent}pass  " if indent and not match.group("comment") else indent
            out.append(prefix + ADOPTED_NOTE + code + line[len(body) :])
        else:
            out.append(line)
    return "".join(out)


def find_imports(
    text: str, problems: list[str] | None = None, where: Callable[[int], str] = "line {}".format
) -> list[tuple[str, int, bool]]:
    """Absolute imports as (module, line, optional); optional: inside `try/except ImportError`.

    Magic and shell lines are blanked first; if the text still does not parse, a line-by-line
    text scan is used instead and a problem is noted.
    """
    source = _without_magics(text)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        if problems is not None:
            problems.append(f"{where(exc.lineno or 1)}: not valid Python; imports found by a text scan")
        return _scan_imports(source)
    optional_lines = _optional_lines(tree)
    found: list[tuple[str, int, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((a.name, node.lineno, node.lineno in optional_lines) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.extend(
                (module, node.lineno, node.lineno in optional_lines)
                for module in dict.fromkeys(_from_import(node.module, a.name) for a in node.names)
            )
    return sorted(found, key=lambda item: item[1])


def _from_import(module: str, name: str) -> str:
    """`from google.cloud import storage` imports `google.cloud.storage` when the table says so."""
    deeper = importnames.lookup(f"{module}.{name}")
    return f"{module}.{name}" if deeper and deeper[1] == f"{module}.{name}" else module


GUESSED = "guessed: same name"
_DISTRIBUTION_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")  # PEP 508 names


def _distribution(module: str, installed: Mapping[str, list[str]] | None) -> tuple[str, str] | None:
    top = importnames.top_level(module)
    from_env = sorted(set(installed.get(top, ()))) if installed else []
    found = importnames.lookup(module)
    if found is not None and found[0] == found[1]:
        return found[0], "a known distribution of the same name"
    if found is not None:
        return found[0], f"reprorun's table: import {found[1]} comes from {found[0]}"
    if len(from_env) == 1:
        return from_env[0], "provided by an installed distribution"
    if not from_env and _DISTRIBUTION_NAME.match(top):
        return canonicalize_name(top), GUESSED
    return None


def _parse_install(number: int, match: re.Match[str]) -> PipInstall:
    tool = match.group("tool")
    conda = tool in ("conda", "mamba", "micromamba")
    command = ("# " if match.group("comment") else "") + match.group("sigil")
    command += (tool if conda else "pip") + " install"
    problems: list[str] = []
    requirements: list[str] = []
    try:
        words = shlex.split(match.group("args"), comments=True)
    except ValueError:
        return PipInstall(number, command, (), ("cannot split the line into words",))
    channels = _channels(words) if conda else []
    i = 0
    while i < len(words):
        word = words[i]
        value = words[i + 1] if i + 1 < len(words) else ""
        i += 1
        if word in ("&&", ";", "||", "|"):
            problems.append(f"the rest of the line after {word!r} is ignored")
            break
        if word.startswith("-"):
            option = word.split("=", 1)[0]
            takes_value = option in _OPTIONS_WITH_VALUE and "=" not in word
            if takes_value:
                i += 1
            else:
                value = word.partition("=")[2]
            problems.extend(_option_problem(option, value, conda))
            continue
        requirement, problem = _requirement(word, conda, channels)
        if problem:
            problems.append(problem)
        if requirement:
            requirements.append(requirement)
    return PipInstall(number, command, tuple(requirements), tuple(problems))


def _option_problem(option: str, value: str, conda: bool) -> list[str]:
    if option in _IGNORED_OPTIONS:
        return []
    if option in ("-c", "--channel") and conda:
        return []  # said with each package of the line (see `_requirement`)
    if option in ("-r", "--requirement", "-c", "--constraint"):
        return [f"'{option} {value}' is not supported: add those requirements to the block yourself"]
    if option in ("-e", "--editable"):
        return [f"editable install '{option} {value}' not adopted: a block cannot hold it"]
    if option in ("-i", "--index-url"):
        return [f"index {value!r}: set it as index-url under [tool.reprorun]"]
    if option == "--extra-index-url":
        return [f"extra index {value!r}: add it to extra-index-urls under [tool.reprorun]"]
    if option in ("-f", "--find-links"):
        return [f"find-links {value!r}: add it to find-links under [tool.reprorun]"]
    if option == "--pre":
        return ["--pre: pre-releases are not allowed by default; pin one explicitly if needed"]
    return [f"option {option!r} ignored"]


def _channels(words: list[str]) -> list[str]:
    """The conda channels a line names (`-c X`, `--channel X`, `--channel=X`), other than conda's own."""
    found = []
    for index, word in enumerate(words):
        if word in ("-c", "--channel") and index + 1 < len(words):
            found.append(words[index + 1])
        elif word.startswith("--channel="):
            found.append(word.partition("=")[2])
    return [c for c in found if c.lower().rstrip("/") not in _CONDA_DEFAULT_CHANNELS]


def _requirement(word: str, conda: bool, channels: Collection[str] = ()) -> tuple[str | None, str | None]:
    if "{" in word or "$" in word:
        return None, f"{word!r} uses a notebook variable: not adopted"
    if conda:
        channel, _, package = word.rpartition("::")
        named = [channel] if channel and channel.lower() not in _CONDA_DEFAULT_CHANNELS else list(channels)
        if named:
            return None, f"{package!r} comes from the conda channel {named[0]!r}: conda-only, not adopted"
        converted = conda_spec(word)
        if converted is None:
            return None, f"{word!r} is a conda-only package: not adopted"
        word = converted
    path_like = "://" in word or word.startswith((".", "/")) or word.endswith((".whl", ".tar.gz", ".zip"))
    if path_like and "@" not in word:
        return None, f"{word!r} is not a named requirement: add it as 'name @ URL'"
    try:
        Requirement(word)
    except InvalidRequirement as exc:
        return None, f"{word!r} is not a valid requirement: {str(exc).splitlines()[0]}"
    return word, None  # as the user wrote it


def conda_spec(word: str) -> str | None:
    """A conda spec (`numpy=1.26`, `pytorch>=2`) as a PEP 508 requirement on its PyPI name."""
    word = word.split("::", 1)[-1]  # channel::package
    match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(.*)", word)
    if not match:
        return word
    name, spec = match.groups()
    if name.lower() in _CONDA_ONLY or (name.lower().startswith(_CONDA_ONLY_PREFIXES) and name.lower() not in
                                       _CONDA_TO_PYPI and importnames.lookup(name) is None):  # fmt: skip
        return None
    name = _CONDA_TO_PYPI.get(name.lower(), name)
    if re.fullmatch(r"=[^=].*", spec):  # conda's `=1.2` means 1.2.*
        spec = "==" + spec[1:].rstrip("*").rstrip(".") + ".*"
    return name + spec


def _canonical(requirement: str) -> str:
    return canonicalize_name(Requirement(requirement).name)


def _lines(text: str) -> list[str]:
    lines = []
    for match in _LINE.finditer(text):
        if not match.group():
            break
        lines.append(match.group())
    return lines


def _without_magics(text: str) -> str:
    """Magic and shell lines replaced by `pass` at their indentation; line numbers kept."""
    out = []
    for line in _lines(text):
        body = line.rstrip("\r\n")
        if _MAGIC_LINE.match(body):
            indent = body[: len(body) - len(body.lstrip(" \t"))]
            out.append(f"{indent}pass{line[len(body):]}")
        else:
            out.append(line)
    return "".join(out)


def _optional_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
            for statement in node.body:
                for inner in ast.walk(statement):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        lines.add(inner.lineno)
    return lines


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return handler.type is None or any(isinstance(k, ast.Name) and k.id in names for k in kinds)


_IMPORT_RE = re.compile(r"^[ \t]*import[ \t]+([\w.]+(?:[ \t]*,[ \t]*[\w.]+)*)")
_FROM_RE = re.compile(r"^[ \t]*from[ \t]+([\w][\w.]*)[ \t]+import\b")


def _scan_imports(text: str) -> list[tuple[str, int, bool]]:
    found: list[tuple[str, int, bool]] = []
    for number, line in enumerate(_lines(text), start=1):
        match = _IMPORT_RE.match(line)
        if match:
            found.extend((m.strip(), number, False) for m in match.group(1).split(","))
            continue
        match = _FROM_RE.match(line)
        if match:
            found.append((match.group(1), number, False))
    return found
