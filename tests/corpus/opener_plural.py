"""A tool."""
# /// scripts
# dependencies = ["alpha"]
# ///
import alpha
