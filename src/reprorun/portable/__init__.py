"""Portability (DESIGN §7): pins for several platforms, bundles for offline machines, exports."""
