"""Put a sandbox's tree into a state: remove paths, empty folders, write project files.

Standard library only: harness/sandbox/cell.py runs it inside containers with their Python, as part
of the cell's one round trip. A plan is {"remove": [...], "empty": [...], "make": [...],
"files": {"path": "text"}}: `remove` deletes files, links and whole trees; `empty` deletes what a folder holds but keeps the
folder (a cache that is a mount point must stay); `make` creates folders; `files` are written
last, their folders made as needed.
"""

import os
import shutil
import stat
import sys


def _unlock(function, path, _error):
    """rmtree met a folder it may not change: a tool left it read-only (virtualenv 21.15.13 makes
    its seed image of pip read-only). The tree is the sandbox's own: make the folder writable,
    and readable where it could not be listed, and try again."""
    parent = os.path.dirname(path)
    os.chmod(parent, os.stat(parent).st_mode | stat.S_IRWXU)
    if function is not os.unlink and os.path.isdir(path) and not os.path.islink(path):
        os.chmod(path, os.stat(path).st_mode | stat.S_IRWXU)
        if function is not os.rmdir:  # it could not be opened or listed: remove it whole now
            _rmtree(path)
            return
    function(path)


def _rmtree(path):
    shutil.rmtree(path, **({"onexc": _unlock} if sys.version_info >= (3, 12) else {"onerror": _unlock}))


def _remove(path):
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        _rmtree(path)


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
