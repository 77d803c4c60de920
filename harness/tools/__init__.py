"""One adapter per tool (a file each) and the one registry of tools (registry.py)."""
