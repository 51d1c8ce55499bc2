# /// script
# [tool.reprorun]
# exclude-newer = "last tuesday"
# ///
