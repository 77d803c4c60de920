"""What runs inside a sandbox, with the image's or the env's own Python: the timing shim, the cell
driver and its tree plans, the scanner, the probe and the rattler tool's driver.

Standard library only (the rattler driver: py-rattler too) and no import of the rest of envbench:
the folder is copied into the tools image whole, and the local backend runs the same files.
"""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
# Copied into the tools image: every script here (this file only marks the package on the host).
SCRIPTS = tuple(sorted(p.name for p in FOLDER.glob("*.py") if p.name != "__init__.py"))
