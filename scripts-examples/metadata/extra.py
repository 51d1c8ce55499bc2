# /// script
# [tool.reprorun]
# extra-index-urls = "https://example.org/simple"
# ///
