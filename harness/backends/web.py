"""The docker backend's index server: nginx over HTTPS serving the mirror's static simple-API tree
(harness/packages/site.py), as PyPI's CDN serves: keep-alive, HTTP/2, range requests, ETags,
Cache-Control as PyPI sends it, and an access log that says what each step asked for.

nginx runs unprivileged in the mirror's container: its pid, temporary files and log under /tmp.
The TLS certificate comes from a CA made for the run (trustme); tool containers trust only it.
"""

from __future__ import annotations

import json
from pathlib import Path

INDEX_PORT = 8443
ACCESS_LOG = "/tmp/envbench-access.log"
# What the index speaks, as run.json records it (Run.index): the conditions a lock time is
# measured under. The local backend's pypiserver speaks only the first and plain HTTP.
FEATURES = ("pep503-html", "pep691-json", "pep658-core-metadata", "pep700-size-upload-time", "range-requests",
            "https", "http2", "keep-alive")  # fmt: skip
PYPISERVER_FEATURES = ("pep503-html", "http", "keep-alive")

# One JSON object per answer: when it ended ($msec, seconds since the epoch), what was asked and
# how many bytes went out (headers included: what crossed the link).
_LOG_FORMAT = (
    '\'{"t":$msec,"status":$status,"bytes":$bytes_sent,"body":$body_bytes_sent,'
    '"request":"$request","range":"$http_range","connection":$connection}\''
)


def nginx_conf(root: str, tls: str, listen: str) -> str:
    """nginx's configuration: the tree at ROOT, certificate and key in TLS, on LISTEN (host:port)."""
    temp = "\n".join(f"    {kind}_temp_path /tmp/nginx-{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""daemon off;
worker_processes 2;
pid /tmp/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
{temp}
    types {{ application/vnd.pypi.simple.v1+json json; text/html html; }}
    default_type application/octet-stream;
    log_format envbench escape=json {_LOG_FORMAT};
    access_log {ACCESS_LOG} envbench;
    sendfile on;
    keepalive_timeout 75s;
    keepalive_requests 100000;
    # PEP 691: JSON for a client that asks for it, HTML otherwise (pip, uv and PDM ask for JSON).
    map $http_accept $page {{
        default index.html;
        "~application/vnd\\.pypi\\.simple\\.(v1|latest)\\+json" index.json;
    }}
    server {{
        listen {listen} ssl http2;
        ssl_certificate {tls}/cert.pem;
        ssl_certificate_key {tls}/key.pem;
        root {root};
        location /simple/ {{
            add_header Vary Accept;
            add_header Cache-Control "max-age=600, public";
            try_files $uri$page $uri/$page =404;
        }}
        location /files/ {{
            add_header Cache-Control "max-age=365000000, immutable, public";
        }}
    }}
}}
"""


def make_tls(folder: Path, hostnames: list[str]) -> Path:
    """A CA for one run and a certificate for HOSTNAMES in FOLDER: ca.pem, cert.pem, key.pem."""
    import trustme

    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="envbench mirror CA")
    issued = ca.issue_cert(*hostnames)
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    issued.private_key_pem.write_to_path(str(folder / "key.pem"))
    (folder / "cert.pem").write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    return folder / "ca.pem"


def parse_log(text: str) -> list[dict]:
    """The access log's answers (a line cut short by a read mid-write is left out)."""
    answers = []
    for line in text.splitlines():
        try:
            answers.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return answers


def traffic(answers: list[dict], windows: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """Requests answered and bytes sent within each window (epoch seconds, the host's clock:
    containers share it). An answer is counted in the window its last byte went out in."""
    counted = []
    for start, end in windows:
        inside = [a for a in answers if start <= a["t"] <= end]
        counted.append((len(inside), sum(a["bytes"] for a in inside)))
    return counted
