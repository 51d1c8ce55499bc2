# /// script
# dependencies = ["rich"
# ///
