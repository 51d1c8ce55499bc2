# /// script
# requires-python = 3.10
# ///
