# /// script
# [tool.reprorun]
# index-url = ["https://example.org/simple"]
# ///
