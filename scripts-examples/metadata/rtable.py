# /// script
# [tool]
# reprorun = true
# ///
