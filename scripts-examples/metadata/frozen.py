# /// script
# [tool.reprorun]
# frozen-for = 311
# ///
