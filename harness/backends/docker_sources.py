"""What the docker backend serves its tool containers: the mirror on an internal network with no
route out (its link shaped where the scenario says so: harness/backends/shaping.py), the conda
channel and a wheel folder as read-only volumes, and an image's interpreter read out for the
converted channel. DockerBackend (docker.py) is one of these."""

from __future__ import annotations

import json
import tarfile
import tempfile
import time
from pathlib import Path

from docker.types import Mount

from harness.backends import shaping, web
from harness.backends.base import BackendError
from harness.backends.engine import LABEL, clean
from harness.backends.images import UID
from harness.packages import mirror, site
from harness.packages.conda_channel import INFO_SCRIPT, Interpreter, combine_archives
from harness.settings.home import envbench_home
from harness.settings.network import NetworkSpec

SCRIPTS = "/opt/envbench"  # the sandbox scripts in the tools image
UPSTREAM_PORT = 8081  # a shaped mirror: the index server behind the latency proxy, on loopback
PROBE_PORT = 8090  # a shaped mirror: GET /bytes/N over the same link (harness/sandbox/latency.py)
PROBE_BYTES, PROBE_SECONDS = 50_000_000, 8  # the throughput probe: 50 MB, or 8 s at the cap if less
WHEELS = "/wheels"
TLS = "/tls"  # in a mirror container: its certificate, key and nginx configuration
CHANNEL = "/channel"  # the converted conda channel, read-only


def _readable_by_tools(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = UID
    info.uname = info.gname = ""
    info.mode = 0o755 if info.isdir() else 0o644
    return info


class DockerSources:
    """Mixed into DockerBackend: its client, image, run id and network settings are these
    methods' too (`_copies`: purpose -> volume holding a host folder's copy)."""

    def _volume_from(self, folder: Path, purpose: str) -> str:
        """FOLDER copied once per run into a volume the tools' user can read (its name).

        A bind mount would carry the host folder's owner and mode (often private to root); the
        copy goes in through the engine's archive API into a container that is never started.
        """
        if purpose not in self._copies:
            labels = {LABEL: self.run_id}
            volume = self.client.volumes.create(name=f"envbench-{self.run_id}-{purpose}".lower(), labels=labels)
            helper = self.client.containers.create(
                self.image, ["true"], labels=labels, network_mode="none", mounts=[Mount(WHEELS, volume.name, type="volume")]
            )
            try:
                with tempfile.TemporaryFile() as archive:
                    with tarfile.open(fileobj=archive, mode="w") as tar:
                        tar.add(folder, arcname=".", filter=_readable_by_tools)
                    archive.seek(0)
                    helper.put_archive(WHEELS, archive)
            finally:
                helper.remove(force=True)
            self._copies[purpose] = volume.name
        return self._copies[purpose]

    def interpreter(self, version: str):
        """The files of the image's python VERSION (its executable, standard library, libpython),
        read through the engine's archive API from a container that never starts."""
        image = self.image_for(version)
        major_minor = ".".join(version.split(".")[:2])
        out = self.client.containers.run(image, [f"python{major_minor}", "-c", INFO_SCRIPT], remove=True, network_mode="none",
                                         labels={LABEL: self.run_id})  # fmt: skip
        info = json.loads(out.decode())
        helper = self.client.containers.create(image, ["true"], labels={LABEL: self.run_id}, network_mode="none")
        try:
            paths = [p for p in (info["executable"], info["libpython"], info["stdlib"]) if p]
            archive = combine_archives([(path, b"".join(helper.get_archive(path)[0])) for path in paths])
        finally:
            helper.remove(force=True)
        return Interpreter(info, archive)

    def serve_channel(self, folder: Path) -> str:
        """A conda channel folder copied into a volume that tool containers started from now on
        mount read-only at /channel: its URL there."""
        self._channel = self._volume_from(folder, "conda-channel")
        return f"file://{CHANNEL}"

    urls: dict[str, str] | None = None  # index -> URL, once served
    link: NetworkSpec | None = None  # the scenario's network, once shape() accepted it
    latency_by: str | None = None  # netem or proxy (harness/settings/network.py)

    def shape(self, network: NetworkSpec | None) -> str | None:
        """Shape the mirror's link as NETWORK says, from serve() on; why it cannot be, or None."""
        if network is None:
            return None
        why = shaping.refused(network)
        if why is None:
            self.link, self.latency_by = network, shaping.mechanism(network)
        return why

    def shaped_by(self) -> str | None:
        """What shapes the link: the latency's mechanism and the bandwidth's."""
        if self.link is None:
            return None
        parts = [f"{self.latency_by} (latency)"] if self.latency_by else []
        return ", ".join(parts + (["tbf (bandwidth)"] if self.link.bandwidth_mbit else [])) or "nothing"

    def _server_argv(self, index: str) -> list[str]:
        """The index server's command: nginx (harness/backends/web.py), behind the latency proxy
        when the link is shaped."""
        nginx = ["nginx", "-e", "stderr", "-c", f"{TLS}/nginx-{index}.conf"]
        if self.link is None:
            return nginx
        rtt = self.link.rtt_ms if self.latency_by == shaping.PROXY else 0
        return ["python3", "-I", f"{SCRIPTS}/latency.py", "--listen", f"0.0.0.0:{web.INDEX_PORT}",
                "--upstream", f"127.0.0.1:{UPSTREAM_PORT}", "--rtt-ms", f"{rtt:g}", "--probe", f"0.0.0.0:{PROBE_PORT}",
                "--", *nginx]  # fmt: skip

    def _tls_folder(self, folder: Path, aliases: list[str]) -> Path:
        """The run's CA, the mirror's certificate and one nginx configuration per index (a folder
        copied into the mirror's containers at /tls; the CA stays on the host for the tools)."""
        tls = envbench_home() / "tls" / self.run_id
        web.make_tls(tls, aliases)
        listen = f"127.0.0.1:{UPSTREAM_PORT}" if self.link is not None else f"0.0.0.0:{web.INDEX_PORT}"
        for index in mirror.indexes_of(folder):
            (tls / f"nginx-{index}.conf").write_text(web.nginx_conf(f"/mirror/{site.SITE}/{index}", TLS, listen))
        return tls

    def measure_link(self, sandbox) -> dict:
        """The round trip and throughput a tool container gets from the mirror (sandbox/netprobe.py)."""
        index_url = next(iter(self.urls.values()))
        probe_url = index_url.replace("https://", "http://").replace(f":{web.INDEX_PORT}/simple/", f":{PROBE_PORT}/bytes/")
        cap = self.link.bandwidth_mbit * 1e6 / 8 * PROBE_SECONDS if self.link.bandwidth_mbit else PROBE_BYTES
        argv = ["python3", "-I", f"{SCRIPTS}/netprobe.py", index_url, probe_url, str(int(min(PROBE_BYTES, cap)))]
        code, out, err = self._exec(sandbox, argv)
        if code != 0:
            raise BackendError(f"netprobe.py failed in the container (exit {code}): {err.decode(errors='replace')[-300:]}")
        return json.loads(out)

    def serve(self, folder: Path, python: str) -> dict[str, str]:
        """Serve a laid-out mirror on an internal network (no route out): {index: simple URL}.

        Tool containers started afterwards join that network and no other.
        """
        labels = {LABEL: self.run_id}
        # An earlier sitting of this run id (a resume after a hard kill) may have left its mirror
        # behind: the engine admits two networks of one name, and then neither can be joined.
        clean(self.client, self.run_id, images=False)
        network = self.client.networks.create(f"envbench-{self.run_id}-mirror".lower(), internal=True, labels=labels)
        volume = self._volume_from(folder, "mirror")
        # Tools reach each index by an alias on the run's own network, the same in every run: pip's
        # HTTP cache names folders by a hash of the URL, so a URL holding the run id would give
        # each run other folders and the cache another size, a block or two apart.
        aliases = {index: f"mirror-{index}".lower() for index in mirror.indexes_of(folder)}
        ca = self._tls_folder(folder, list(aliases.values())) / "ca.pem"
        tls = self._volume_from(ca.parent, "tls")
        urls, self.servers = {}, []
        for index, alias in aliases.items():
            name = f"envbench-{self.run_id}-mirror-{index}".lower()
            server = self.client.containers.run(
                self.image,
                self._server_argv(index),
                name=name, detach=True, labels=labels, network=network.name,
                networking_config={network.name: self.client.api.create_endpoint_config(aliases=[alias])},
                mounts=[Mount("/mirror", volume, type="volume", read_only=True), Mount(TLS, tls, type="volume", read_only=True)],
                user=f"{UID}:{UID}", cap_drop=["ALL"], security_opt=["no-new-privileges"],
            )  # fmt: skip
            self.servers.append(server)
            urls[index] = f"https://{alias}:{web.INDEX_PORT}/simple/"
        for server in self.servers:  # every server started before the first is waited for: they start side by side
            self._wait_until_served(server, server.name)
            if self.link is not None:
                server.reload()
                shaping.apply(server.attrs["State"]["Pid"], self.link, self.latency_by)
        # From now on tool containers see only the mirror: no route out, no proxy, and only the
        # run's own CA to trust.
        self.network, self.passed, self.ca_bundle = network.name, {}, str(ca)
        self.urls = urls
        return urls

    servers: list = []  # the mirror's containers, once served
    _log_read: dict[str, int] = {}  # container name -> bytes of its access log read so far

    def index_facts(self) -> dict:
        """What the mirror's server speaks (run.json: mirror.server)."""
        version = self.servers[0].exec_run(["nginx", "-v"])[1].decode(errors="replace").strip() if self.servers else ""
        return {"server": version.removeprefix("nginx version: ") or "nginx", "pages": f"simple-repository {_pages_version()}",
                "features": list(web.FEATURES)}  # fmt: skip

    def traffic(self, windows: list[tuple[float, float]]) -> list[tuple[int, int]] | None:
        """Requests and bytes the mirror answered within each window (harness/backends/web.py)."""
        if not self.servers:
            return None
        answers = []
        for server in self.servers:
            offset = self._log_read.get(server.name, 0)
            code, out = server.exec_run(["tail", "-c", f"+{offset + 1}", web.ACCESS_LOG])
            if code != 0:
                return None
            whole = out[: out.rfind(b"\n") + 1]  # a line still being written waits for the next read
            self._log_read = {**self._log_read, server.name: offset + len(whole)}
            answers += web.parse_log(whole.decode(errors="replace"))
        return web.traffic(answers, windows)

    def _wait_until_served(self, server, name: str, timeout: float = 60) -> None:
        # the certificate names the alias, not 127.0.0.1: the check trusts it unverified
        url = f"https://127.0.0.1:{web.INDEX_PORT}/simple/"
        fetch = f"import ssl, urllib.request; urllib.request.urlopen('{url}', context=ssl._create_unverified_context())"
        check = ["python3", "-c", fetch]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server.reload()
            if server.status == "exited":
                raise BackendError(f"the mirror server {name} exited: {server.logs()[-300:].decode(errors='replace')}")
            if server.status == "running" and server.exec_run(check)[0] == 0:
                return
            time.sleep(0.3)
        raise BackendError(f"the mirror server {name} did not answer in {timeout:.0f} s")


def _pages_version() -> str:
    from importlib.metadata import version

    return version("simple-repository")
