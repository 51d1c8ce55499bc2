"""MkDocs hook: in `console` blocks, only `$ ` starts a command.

Pygments' console lexer also takes `# ` and `% ` for prompts (a root shell, zsh), so output lines
that begin with `#` (a batch script's `#SBATCH` lines, a block's `# /// script`) were drawn as
commands. Every session on these pages uses `$` (tests/test_docs.py runs them), so for this build
the lexer knows that prompt only. (Its class attribute is set, in the mkdocs process only: Pygments
reloads its lexer cache by module, so a registered subclass would not stay in place.)
"""

from __future__ import annotations

import re
from typing import Any

DOLLAR_PROMPT = re.compile(r"^(\$ )(.*\n?)")


def on_config(config: Any) -> Any:  # noqa: ANN401 - mkdocs' types
    """Give the `console` lexer the `$`-only prompt."""
    from pygments.lexers.shell import BashSessionLexer  # type: ignore[import-untyped]

    BashSessionLexer._ps1rgx = DOLLAR_PROMPT
    return config
