# /// script
# dependencies = ["rich"]
# [tool.reprorun]
# colour = "teal"
# ///
import rich
