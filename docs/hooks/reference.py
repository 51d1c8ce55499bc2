"""MkDocs hook: the command reference (reference/cli.md) is generated from reprorun's own argparse parsers.

The page in the repository holds only a marker; at build time every command and option is read
from `reprorun.cli.parsers()`, so the reference cannot drift from the command line.
"""

from __future__ import annotations

import argparse
from typing import Any

MARKER = "<!-- reprorun:cli-reference -->"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:  # noqa: ANN401 - mkdocs' types
    """Replace the marker with the generated reference."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render())


def render() -> str:
    """The reference of every command as Markdown."""
    from reprorun import cli
    from reprorun.commands.completions import interface

    parsers = cli.parsers()
    global_names = {flag for action in parsers[""]._actions for flag in action.option_strings}
    out: list[str] = []
    for name, parser in parsers.items():
        spec = interface(name, parser)
        title = "reprorun [OPTIONS] SCRIPT [ARGS...]" if not name else f"reprorun {name}"
        out += [f"## `{title}`", "", _escape(spec.help.strip().splitlines()[0]) if spec.help else "", ""]
        out += ["```text", parser.format_usage().strip(), "```", ""]
        rows = [o for o in spec.options if not name or not (set(o.flags) & global_names - {"-h", "--help"})]
        if spec.positionals:
            out += ["| argument | |", "| --- | --- |"]
            for action in parser._actions:
                if not action.option_strings and action.help != argparse.SUPPRESS:
                    label = action.metavar if isinstance(action.metavar, str) else action.dest
                    choices = f" (one of: {', '.join(map(str, action.choices))})" if action.choices else ""
                    out.append(f"| `{label}` | {_escape(action.help or '')}{choices} |")
            out.append("")
        if rows:
            out += ["| option | |", "| --- | --- |"]
            for option in rows:
                value = f" {option.metavar or 'VALUE'}" if option.takes_value and not option.choices else ""
                choices = f" {{{','.join(option.choices)}}}" if option.choices else ""
                flags = ", ".join(f"`{flag}{value}{choices}`" for flag in option.flags)
                out.append(f"| {flags} | {_escape(option.help)} |")
            out.append("")
        if name:
            out += ["The [common options](#reprorun-options-script-args) are accepted too.", ""]
    return "\n".join(out)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("%%", "%").replace("\n", " ")
