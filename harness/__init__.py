"""envbench: measures the disk and time Python environment managers cost."""

__version__ = "0.1.0"
