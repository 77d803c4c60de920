"""Put a sandbox's tree into a state: remove paths, empty folders, write project files.

Standard library only: harness/cell.py runs it inside containers with their Python, as part
of the cell's one round trip. A plan is {"remove": [...], "empty": [...], "make": [...],
"files": {"path": "text"}}: `remove` deletes files, links and whole trees; `empty` deletes what a folder holds but keeps the
folder (a cache that is a mount point must stay); `make` creates folders; `files` are written
last, their folders made as needed.
"""

import os
import shutil


def _remove(path):
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def apply(plan):
    for path in plan.get("remove", ()):
        _remove(path)
    for folder in plan.get("empty", ()):
        if os.path.isdir(folder) and not os.path.islink(folder):
            for entry in os.listdir(folder):
                _remove(os.path.join(folder, entry))
    for folder in plan.get("make", ()):
        os.makedirs(folder, exist_ok=True)
    for path, text in plan.get("files", {}).items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)
