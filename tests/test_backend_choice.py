"""--backend auto and docker when no engine answers; image inputs that need no engine."""

from __future__ import annotations

import json

from harness.backends import images

from .conftest import write


def test_auto_falls_back_to_local_and_says_why(tmp_path, wheelhouse, tool_venvs, isolated_work, cli, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    path = write(
        tmp_path / "s.yaml",
        f"""
    name: auto
    python: "3.11"
    wheelhouse: {wheelhouse}
    projects:
      - name: app
        dependencies: [beta]
    """,
    )
    status, _, err = cli("run", path, "--tools", "uv", "--quick", "--out", tmp_path / "out")
    assert status == 0
    assert "backend: local (auto: no Docker engine answers at unix:///nonexistent/docker.sock" in " ".join(err.split())
    backend = json.loads((tmp_path / "out" / "run.json").read_text())["backend"]
    assert backend["name"] == "local" and backend["reason"].startswith("auto: no Docker engine answers")

    status, out, err = cli("run", path, "--backend", "docker", "--tools", "uv", "--out", tmp_path / "out2")
    assert status == 2 and out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("no Docker engine answers at unix:///nonexistent/docker.sock (")
    assert "DOCKER_HOST" in line and "--backend local" in line


def test_tools_dockerfile_suits_the_legacy_builder():
    text = images.dockerfile("envbench-base:abc", {"uv": ("uv==0.13.9",)})
    assert text.startswith("FROM envbench-base:abc\n")
    assert "--mount" not in text and "<<" not in text  # no BuildKit syntax
    assert "pip install --no-index --find-links /tmp/wheels" in text and "uv==0.13.9" in text
    assert "USER 1000:1000" in text and "LABEL envbench=tools" in text
