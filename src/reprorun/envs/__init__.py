"""Environments: interpreters, keys, the cache and its locks, building and pruning."""
