"""A package published only as source."""
