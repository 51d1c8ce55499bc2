"""The options every command takes (interpreter, package sources, cache, verbosity), and the bundle made of them."""

from __future__ import annotations

import argparse

from reprorun.options import Options


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """Options every command takes: interpreter, package sources, cache, verbosity."""
    group = parser.add_argument_group("environment")
    group.add_argument("--python", metavar="X", help="interpreter: a path or a version (3.12, python3.12)")
    group.add_argument("--index-url", metavar="URL", help="the package index to use instead of the default")
    group.add_argument("--extra-index-url", action="append", default=[], metavar="URL",
                       help="another index (repeatable)")
    group.add_argument("--find-links", action="append", default=[], metavar="PATH",
                       help="a folder or page of distributions (repeatable)")
    group.add_argument("--no-index", action="store_true", help="ignore package indexes (only --find-links)")
    group.add_argument("--no-build", action="store_true",
                       help="install wheels only; a package that would be built from source is an error")
    group.add_argument("--offline", action="store_true", help="never touch the network; fail if the env is not built")
    group.add_argument("--refresh", action="store_true", help="build a new environment even if one is cached")
    group.add_argument("--installer", choices=("auto", "pip", "uv"), default=None,
                       help="who creates envs and installs (default: auto: uv if installed and every pip "
                       "setting maps onto it, else pip)")
    group.add_argument("--cache-dir", metavar="DIR", help="cache root (also REPRORUN_CACHE_DIR)")
    group.add_argument("-q", "--quiet", action="count", default=0, help="say less")
    group.add_argument("-v", "--verbose", action="count", default=0, help="say more (pip's output, tracebacks)")


def options_from(ns: argparse.Namespace) -> Options:
    """The frozen option bundle of parsed arguments (CLI > environment > config file > default)."""
    from reprorun.config import option_defaults

    merged = option_defaults({"installer": ns.installer, "cache_dir": ns.cache_dir, "index_url": ns.index_url,
                              "extra_index_urls": ns.extra_index_url, "find_links": ns.find_links,
                              "no_build": ns.no_build})  # fmt: skip
    return Options(
        python=ns.python,
        no_index=ns.no_index,
        offline=ns.offline,
        refresh=ns.refresh,
        verbosity=ns.verbose - ns.quiet,
        **merged,
    )
