#!/usr/bin/env python3
# ///script
# requires-python = ">=3.9"
# dependencies = ["alpha"]
# ///
import alpha
