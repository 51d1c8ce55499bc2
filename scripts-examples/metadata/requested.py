# /// script
# [tool.reprorun]
# requested = "rich"
# ///
