"""reprorun: run a single script in a cached environment built from its PEP 723 block."""

__version__ = "0.1.0"
