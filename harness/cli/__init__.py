"""The command line: one module per command (docs/running.md); exit 0 success, 1 a measurement
failed, 2 bad input."""
