"""A cell driver kept running in a container: harness/sandbox/cell.py --serve behind one exec.

An exec costs the engine about 55 ms, and the driver's interpreter 15 ms more to start: in a
smoke run's 360 cells that was most of the harness's "cell" seconds. The driver reads one cell
(a JSON line) from its standard input and answers with one JSON line on its standard output;
the tools' own output goes to their logs (the shim), never to that stream, and their standard
input is /dev/null, so they cannot read the next cell.
"""

from __future__ import annotations

import json
import threading

from docker.utils.socket import STDOUT, next_frame_header, read_exactly

from harness.backends.base import BackendError


class CellDriver:
    def __init__(self, client, container_id: str, argv: list[str], user: str, workdir: str):
        api = client.api
        self._exec_id = api.exec_create(container_id, argv, stdin=True, stdout=True, stderr=True, user=user,
                                        workdir=workdir)["Id"]  # fmt: skip
        self._socket = api.exec_start(self._exec_id, socket=True)
        self._raw = getattr(self._socket, "_sock", self._socket)
        self._raw.settimeout(None)  # a step may take many minutes (a CUDA build of torch)
        self._lock = threading.Lock()
        self._out, self._err = b"", b""

    def call(self, spec: dict) -> dict:
        """Send one cell; its reply: {"results": [...]} or {"error": traceback}."""
        with self._lock:
            try:
                self._raw.sendall(json.dumps(spec).encode() + b"\n")
                while b"\n" not in self._out:
                    kind, size = next_frame_header(self._socket)
                    if size < 0:
                        raise BackendError(f"the cell driver ended: {self._err.decode(errors='replace')[-300:]}")
                    data = read_exactly(self._socket, size) if size else b""
                    if kind == STDOUT:
                        self._out += data
                    else:
                        self._err = (self._err + data)[-4000:]
            except OSError as exc:
                raise BackendError(f"the cell driver's stream broke: {exc}") from None
            line, _, self._out = self._out.partition(b"\n")
        return json.loads(line)

    def close(self) -> None:
        try:
            self._raw.close()
        except OSError:
            pass
