# /// script
# [tool.reprorun]
# hashes = "sha256:abc"
# ///
