"""The mirror's simple-API tree (harness/packages/site.py) and the access log's accounting
(harness/backends/web.py), on the host; tests/test_mirror.py checks them through nginx."""

from __future__ import annotations

import hashlib
import json

from harness.backends import web
from harness.packages import site
from harness.packages.synth import SynthPackage, build, build_wheel


def test_pages_list_every_file_with_hash_size_and_core_metadata(tmp_path):
    index = tmp_path / "mirror" / "pypi"
    index.mkdir(parents=True)
    wheels = [build_wheel(SynthPackage("stack", version, dependencies=("stack-base>=1",)), index) for version in ("1.10", "1.9")]
    sdist = build(SynthPackage("from-source", sdist=True), index)
    (index / "README.txt").write_text("not a distribution: left off the pages\n")
    folder = site.build(tmp_path / "mirror", ["pypi"])
    page = json.loads((folder / "pypi/simple/stack/index.json").read_text())
    assert page["meta"] == {"api-version": "1.1"} and page["name"] == "stack"
    assert page["versions"] == ["1.9", "1.10"]  # by version, not by text
    for wheel in wheels:
        entry = next(f for f in page["files"] if f["filename"] == wheel.name)
        assert entry["hashes"] == {"sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}
        assert entry["size"] == wheel.stat().st_size and entry["upload-time"].endswith("Z")
        metadata = (folder / "pypi/files" / f"{wheel.name}.metadata").read_bytes()
        assert entry["core-metadata"] == {"sha256": hashlib.sha256(metadata).hexdigest()}
        assert b"Requires-Dist: stack-base>=1" in metadata
        assert (folder / "pypi/files" / wheel.name).stat().st_ino == wheel.stat().st_ino  # a link, not a copy
    sdist_page = json.loads((folder / "pypi/simple/from-source/index.json").read_text())
    assert [f["filename"] for f in sdist_page["files"]] == [sdist.name] and "core-metadata" not in sdist_page["files"][0]
    listing = json.loads((folder / "pypi/simple/index.json").read_text())
    assert [p["name"] for p in listing["projects"]] == ["from-source", "stack"]
    html = (folder / "pypi/simple/stack/index.html").read_text()
    assert html.count("data-core-metadata=") == 2 and "#sha256=" in html
    assert json.loads((folder / "site.json").read_text())["files"] == {"pypi": 3}


def test_pages_are_made_once_and_again_when_their_format_changes(tmp_path, monkeypatch):
    index = tmp_path / "mirror" / "pypi"
    index.mkdir(parents=True)
    build_wheel(SynthPackage("alpha"), index)
    first = site.build(tmp_path / "mirror", ["pypi"])
    made = (first / "site.json").stat().st_mtime_ns
    assert site.build(tmp_path / "mirror", ["pypi"]) == first and (first / "site.json").stat().st_mtime_ns == made
    monkeypatch.setattr(site, "FORMAT", site.FORMAT + 1)
    site.build(tmp_path / "mirror", ["pypi"])
    assert json.loads((first / "site.json").read_text())["format"] == site.FORMAT


def test_traffic_counts_each_answer_in_the_window_it_ended_in():
    log = "\n".join(json.dumps({"t": t, "status": 200, "bytes": size, "body": size - 200, "request": "GET /", "range": "",
                                "connection": 1}) for t, size in ((10.5, 1000), (11.0, 300), (12.2, 5000)))  # fmt: skip
    answers = web.parse_log(log + '\n{"t": 13.0, "sta')  # a line cut short mid-write is left out
    assert len(answers) == 3
    assert web.traffic(answers, [(10.0, 11.0), (11.5, 12.0), (12.0, 14.0)]) == [(2, 1300), (0, 0), (1, 5000)]


def test_nginx_configuration_names_the_tree_the_certificate_and_the_log():
    conf = web.nginx_conf("/mirror/.site/pypi", "/tls", "0.0.0.0:8443")
    assert "listen 0.0.0.0:8443 ssl http2;" in conf and "root /mirror/.site/pypi;" in conf
    assert "ssl_certificate /tls/cert.pem;" in conf and f"access_log {web.ACCESS_LOG} envbench;" in conf
    assert "application/vnd\\.pypi\\.simple\\.(v1|latest)\\+json" in conf
