#!/usr/bin/env python3
# Script Dependencies:
#     alpha>=1
#     beta
# USAGE: python pep722_then_usage.py INPUT [--verbose]
#   Reads INPUT and prints a summary.
"""Summarise a file (the shape of several public scripts of the held-out corpus)."""
import alpha
import beta

print("alpha", alpha.__version__)
