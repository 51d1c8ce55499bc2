# /// script
# dependencies = ["rich", 3]
# ///
