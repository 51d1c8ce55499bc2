# /// script
# name = "my-script"
# ///
