"""Adapters return steps as data: asserted here without running anything."""

from __future__ import annotations

from harness.tools import ADAPTERS, PackageSource, Sandbox

SANDBOX = Sandbox(root="/bench/uv", python="/usr/bin/python3.11", tool_bin="/tools/uv/bin", ca_bundle="/etc/ca.pem")
PIP_SANDBOX = Sandbox(root="/bench/pip-venv", python="/usr/bin/python3.11", ca_bundle="/etc/ca.pem")
REQUIREMENTS = ("numpy>=1.26", "torch")
TORCH_CPU = PackageSource(pinned=(("torch", "https://download.pytorch.org/whl/cpu"),))


def test_pip_venv_steps():
    adapter = ADAPTERS["pip-venv"]
    venv, install = adapter.install_steps(PIP_SANDBOX, "app-01", REQUIREMENTS, TORCH_CPU)
    assert venv.operation == "venv"
    assert venv.argv == ("/usr/bin/python3.11", "-m", "venv", "/bench/pip-venv/projects/app-01/.venv")
    assert install.operation == "install"
    assert install.argv == (
        "/bench/pip-venv/projects/app-01/.venv/bin/python",
        "-m",
        "pip",
        "install",
        "--extra-index-url",
        "https://download.pytorch.org/whl/cpu",
        "numpy>=1.26",
        "torch",
    )
    assert install.cwd == "/bench/pip-venv/projects/app-01"
    env = dict(install.env)
    assert env["PIP_CACHE_DIR"] == "/bench/pip-venv/cache/pip"
    assert env["PIP_CONFIG_FILE"] == "/dev/null"
    assert env["HOME"] == "/bench/pip-venv/home"
    assert env["XDG_CACHE_HOME"] == "/bench/pip-venv/cache"
    assert env["PIP_CERT"] == env["SSL_CERT_FILE"] == "/etc/ca.pem"
    assert adapter.link_mode_configured() == "copy"
    assert adapter.env_python(PIP_SANDBOX, "app-01") == "/bench/pip-venv/projects/app-01/.venv/bin/python"


def test_pip_venv_offline_from_a_wheelhouse():
    _, install = ADAPTERS["pip-venv"].install_steps(PIP_SANDBOX, "a", ("six",), PackageSource(wheelhouse="/wheels"))
    assert install.argv[4:] == ("--no-index", "--find-links", "/wheels", "six")


def test_uv_steps():
    adapter = ADAPTERS["uv"]
    venv, install = adapter.install_steps(SANDBOX, "app-02", REQUIREMENTS, TORCH_CPU)
    assert venv.argv == ("/tools/uv/bin/uv", "venv", "--python", "/usr/bin/python3.11", "/bench/uv/projects/app-02/.venv")
    assert install.argv == (
        "/tools/uv/bin/uv",
        "pip",
        "install",
        "--python",
        "/bench/uv/projects/app-02/.venv/bin/python",
        "--index",
        "https://download.pytorch.org/whl/cpu",
        "numpy>=1.26",
        "torch",
    )
    env = dict(install.env)
    assert env["UV_CACHE_DIR"] == "/bench/uv/cache/uv"
    assert env["UV_NO_CONFIG"] == "1"
    assert env["UV_PYTHON_DOWNLOADS"] == "never"
    assert "UV_LINK_MODE" not in env  # measured as users get it: uv's default
    assert adapter.link_mode_configured() == "hardlink"
    assert adapter.requirements == ("uv==0.13.9",)


def test_uv_offline_from_a_wheelhouse():
    _, install = ADAPTERS["uv"].install_steps(SANDBOX, "a", ("six",), PackageSource(wheelhouse="/wheels"))
    assert install.argv[5:] == ("--offline", "--no-index", "--find-links", "/wheels", "six")


def test_versions_are_parsed_from_tool_output():
    assert ADAPTERS["uv"].parse_version("uv 0.13.9 (x86_64-unknown-linux-gnu)\n") == "0.13.9"
    assert ADAPTERS["pip-venv"].parse_version("23.2.1\n") == "23.2.1"
    assert ADAPTERS["uv"].version_step(SANDBOX).argv == ("/tools/uv/bin/uv", "--version")


def test_no_step_is_a_shell_string():
    for adapter, sandbox in ((ADAPTERS["uv"], SANDBOX), (ADAPTERS["pip-venv"], PIP_SANDBOX)):
        steps = adapter.install_steps(sandbox, "a", ("name with space; rm -rf /",), PackageSource())
        assert all(isinstance(step.argv, tuple) for step in steps)
        install = next(step for step in steps if step.operation == "install")
        assert install.argv[-1] == "name with space; rm -rf /"  # one argument, never split or quoted
