# /// script
# dependencies = ["slowpkg"]
# ///
import slowpkg
