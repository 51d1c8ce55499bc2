# /// script
# tool = "reprorun"
# ///
