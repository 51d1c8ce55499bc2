#!/usr/bin/env reprorun
# /// script
# requires-python = ">=3.10"
# dependencies = ["rich>=13", "httpx"]
#
# [tool.reprorun]
# exclude-newer = 2024-06-01
# ///
import rich
