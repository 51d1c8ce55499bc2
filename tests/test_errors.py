"""errors.py: one hierarchy, exit codes, and `render()` — exactly what the CLI prints for each class."""

from __future__ import annotations

import inspect

import pytest

from reprorun import errors
from reprorun.errors import InternalError, MetadataError, ReprorunError, UsageError

EXIT_1 = ["InterpreterError", "BuildError", "OfflineError", "ClusterError", "NotBuilt", "ResolutionError",
          "WriteError", "NotCurrent", "NoBlock", "CacheError", "NoWheel", "BundleError"]  # fmt: skip
EXIT_2 = ["UsageError", "ConfigError"]


def classes() -> dict[str, type[ReprorunError]]:
    return {name: value for name, value in vars(errors).items()
            if inspect.isclass(value) and issubclass(value, ReprorunError)}  # fmt: skip


def test_every_class_is_listed_in_the_module_docstring() -> None:
    doc = errors.__doc__ or ""
    for name in classes():
        assert name in doc, name


def test_the_hierarchy_is_complete_and_known() -> None:
    assert set(classes()) == {"ReprorunError", "MetadataError", "InternalError", *EXIT_1, *EXIT_2}


def test_every_error_is_a_reprorun_error_and_only_usage_errors_exit_2() -> None:
    for name, cls in classes().items():
        assert issubclass(cls, ReprorunError)
        assert cls.exit_code == (2 if issubclass(cls, UsageError) else 1), name


@pytest.mark.parametrize("name", EXIT_1 + EXIT_2)
def test_render_without_hint(name: str) -> None:
    exc = classes()[name]("something went wrong")
    assert exc.render() == "reprorun: error: something went wrong\n"
    assert exc.message == "something went wrong"
    assert exc.hint is None
    assert str(exc) == "something went wrong"


@pytest.mark.parametrize("name", EXIT_1 + EXIT_2)
def test_render_with_hint(name: str) -> None:
    exc = classes()[name]("it failed", hint="try this")
    assert exc.render() == "reprorun: error: it failed\nhint: try this\n"


def test_render_of_a_multi_line_message_keeps_its_lines() -> None:
    exc = errors.BuildError("could not install a:\n  ERROR: x", hint="rerun with -v")
    assert exc.render() == "reprorun: error: could not install a:\n  ERROR: x\nhint: rerun with -v\n"


def test_an_empty_hint_is_no_hint() -> None:
    assert UsageError("bad", hint="").render() == "reprorun: error: bad\n"


def test_internal_error_is_labelled_and_always_hints_at_the_bug() -> None:
    exc = InternalError("the frozen block is not current")
    assert exc.exit_code == 1
    assert exc.render() == ("reprorun: internal error: the frozen block is not current\n"
                            "hint: this is a bug in reprorun; rerun with -v for the traceback and report it\n")


def test_metadata_error_is_compiler_style_with_a_column_marker() -> None:
    exc = MetadataError("invalid requirement", path="s.py", line=3, source_line='# dependencies = ["a b"]\n',
                        column=19, hint="quote it")  # fmt: skip
    assert exc.message == "s.py:3: invalid requirement"
    assert (exc.reason, exc.path, exc.line, exc.column) == ("invalid requirement", "s.py", 3, 19)
    assert exc.exit_code == 2
    assert exc.excerpt() == '    # dependencies = ["a b"]\n' + "    " + " " * 19 + "^"
    assert exc.render() == ('reprorun: error: s.py:3: invalid requirement\n    # dependencies = ["a b"]\n'
                            "                       ^\nhint: quote it\n")  # fmt: skip


def test_metadata_error_without_a_column_underlines_the_line() -> None:
    exc = MetadataError("bad", path="s.py", line=1, source_line="# x = 1   ")
    assert exc.excerpt() == "    # x = 1\n    ~~~~~~~"


def test_metadata_error_at_column_zero() -> None:
    exc = MetadataError("bad", path="s.py", line=1, source_line="x", column=0)
    assert exc.excerpt() == "    x\n    ^"


def test_metadata_error_without_a_source_line_has_no_excerpt() -> None:
    exc = MetadataError("unclosed block", path="s.py", line=7)
    assert exc.excerpt() == ""
    assert exc.render() == "reprorun: error: s.py:7: unclosed block\n"


def test_a_real_metadata_error_renders_its_line() -> None:
    from reprorun.script import metadata

    text = '# /// script\n# dependencies = ["ok", "not valid !!"]\n# ///\n'
    with pytest.raises(MetadataError) as info:
        metadata.parse(text, "s.py")
    rendered = info.value.render().splitlines()
    assert rendered[0].startswith("reprorun: error: s.py:2: ")
    assert rendered[1] == '    # dependencies = ["ok", "not valid !!"]'
    assert rendered[2].strip() in {"^", "~" * len(rendered[1].strip())}


def test_the_base_excerpt_is_empty() -> None:
    assert ReprorunError("x").excerpt() == ""
