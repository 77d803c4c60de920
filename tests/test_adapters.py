"""Adapters return steps as data: asserted here without running anything."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import PurePosixPath

from harness.scenario.parse import parse
from harness.tools.base import PackageSource, Sandbox
from harness.tools.registry import ADAPTERS, NAMES, adapter_for

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
    assert adapter.link_mode_configured() == "clone"  # uv 0.13.9 on Linux, in its own help text
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
    for adapter in ADAPTERS.values():
        sandbox = tool_sandbox(adapter.name)
        for step in [adapter.version_step(sandbox), *adapter.install_steps(sandbox, "a", REQUIREMENTS, MIRROR)]:
            assert isinstance(step.argv, tuple) and all(isinstance(arg, str) for arg in step.argv)
            assert not runs_a_shell(step.argv), (adapter.name, step.argv)


SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "fish"}


def runs_a_shell(argv: tuple[str, ...]) -> bool:
    """A shell anywhere in ARGV (`sh -c ...`, `env sh -c ...`, `/bin/bash`), or a whole command
    line passed as one argument ("sh -c ...")."""
    return any(PurePosixPath(arg).name in SHELLS or arg.split(" ", 1)[0].rsplit("/", 1)[-1] in SHELLS and " " in arg
               for arg in argv)  # fmt: skip


def test_the_shell_check_catches_every_form():
    for argv in (("sh", "-c", "pip install x"), ("/bin/bash", "-c", "x"), ("env", "A=1", "sh", "-c", "x"),
                 ("sh -c 'pip install x'",), ("python", "-m", "pip", "install", "x")):  # fmt: skip
        assert runs_a_shell(argv) == (argv[0] != "python"), argv


# -- the tools with project files --------------------------------------------------------------
MIRROR = PackageSource(
    pinned=(("torch", "http://mirror-cpu:8080/simple/"),),
    index_url="http://mirror-pypi:8080/simple/",
    trusted_hosts=("mirror-cpu", "mirror-pypi"),
    names=(("http://mirror-cpu:8080/simple/", "pytorch-cpu"),),
    conda_channel="file:///channel",
)


def tool_sandbox(name: str) -> Sandbox:
    return Sandbox(root=f"/bench/{name}", python="/usr/bin/python3.11", tool_bin=f"/opt/tools/{name}/bin", python_version="3.11")


def operations(name: str, source: PackageSource = MIRROR) -> list[tuple[str, tuple[str, ...]]]:
    steps = ADAPTERS[name].install_steps(tool_sandbox(name), "app-01", REQUIREMENTS, source)
    return [(step.operation, step.argv) for step in steps]


def project_file(name: str, file: str, source: PackageSource = MIRROR) -> dict:
    return tomllib.loads(ADAPTERS[name].project_files("app-01", REQUIREMENTS, source, "3.11")[file])


def test_lock_files_and_env_paths():
    assert set(ADAPTERS) == set(NAMES)  # every tool a scenario may name has an adapter
    lock_files = {name: adapter.lock_file for name, adapter in ADAPTERS.items()}
    assert lock_files == {
        "pip-venv": None, "virtualenv": None, "pip-tools": "requirements.txt", "uv": None, "uv-project": "uv.lock",
        "poetry": "poetry.lock", "pdm": "pdm.lock", "pipenv": "Pipfile.lock", "hatch": None, "conda": None, "pixi": "pixi.lock",
        "rattler": "pixi.lock", "nix": "default.nix",
    }  # fmt: skip
    assert ADAPTERS["nix"].env_python(tool_sandbox("nix"), "a") == "/bench/nix/projects/a/.nix-env/bin/python"
    assert ADAPTERS["pdm"].env_paths == (".venv", ".pdm-python")
    assert ADAPTERS["pixi"].env_python(tool_sandbox("pixi"), "a") == "/bench/pixi/projects/a/.pixi/envs/default/bin/python"


def test_virtualenv_steps():
    (venv_op, venv), (install_op, install) = operations("virtualenv")
    assert venv_op == "venv" and venv == (
        "/opt/tools/virtualenv/bin/virtualenv", "--python", "/usr/bin/python3.11", "/bench/virtualenv/projects/app-01/.venv",
    )  # fmt: skip
    assert install_op == "install"
    assert install[:4] == ("/bench/virtualenv/projects/app-01/.venv/bin/python", "-m", "pip", "install")
    assert "--index-url" in install and "http://mirror-pypi:8080/simple/" in install


def test_uv_project_files_and_steps():
    data = project_file("uv-project", "pyproject.toml")
    assert data["project"]["dependencies"] == list(REQUIREMENTS) and data["project"]["requires-python"] == "==3.11.*"
    assert data["tool"]["uv"]["package"] is False
    assert data["tool"]["uv"]["index"] == [
        {"name": "mirror", "url": "http://mirror-pypi:8080/simple/", "default": True},
        {"name": "pytorch-cpu", "url": "http://mirror-cpu:8080/simple/", "explicit": True},
    ]
    assert data["tool"]["uv"]["sources"] == {"torch": {"index": "pytorch-cpu"}}
    assert operations("uv-project") == [
        ("lock", ("/opt/tools/uv-project/bin/uv", "lock", "--python", "/usr/bin/python3.11")),
        ("install", ("/opt/tools/uv-project/bin/uv", "sync", "--locked", "--python", "/usr/bin/python3.11")),
    ]
    # The project's [tool.uv] table must be read: UV_NO_CONFIG would skip it.
    step = ADAPTERS["uv-project"].install_steps(tool_sandbox("uv-project"), "a", REQUIREMENTS, MIRROR)[0]
    assert "UV_NO_CONFIG" not in dict(step.env)
    offline = project_file("uv-project", "pyproject.toml", PackageSource(wheelhouse="/wheels"))
    assert offline["tool"]["uv"] == {"package": False, "no-index": True, "find-links": ["/wheels"]}


def test_poetry_files_and_steps():
    data = project_file("poetry", "pyproject.toml")
    assert data["tool"]["poetry"]["package-mode"] is False
    assert data["tool"]["poetry"]["dependencies"] == {"torch": {"source": "pytorch-cpu"}}
    assert data["tool"]["poetry"]["source"] == [
        {"name": "mirror", "url": "http://mirror-pypi:8080/simple/", "priority": "primary"},  # primary: PyPI is off
        {"name": "pytorch-cpu", "url": "http://mirror-cpu:8080/simple/", "priority": "explicit"},
    ]
    poetry = "/opt/tools/poetry/bin/poetry"
    assert operations("poetry") == [
        ("venv", (poetry, "env", "use", "/usr/bin/python3.11")),
        ("lock", (poetry, "lock")),
        ("install", (poetry, "install")),
    ]
    env = dict(ADAPTERS["poetry"].install_steps(tool_sandbox("poetry"), "a", REQUIREMENTS, MIRROR)[0].env)
    assert env["POETRY_VIRTUALENVS_IN_PROJECT"] == "true" and env["POETRY_CACHE_DIR"] == "/bench/poetry/cache/poetry"
    assert "folder of wheels" in ADAPTERS["poetry"].unavailable(PackageSource(wheelhouse="/w"), {})


def test_pdm_files_and_steps():
    data = project_file("pdm", "pyproject.toml")
    assert data["tool"]["pdm"]["distribution"] is False
    assert data["tool"]["pdm"]["source"] == [
        {"name": "pypi", "url": "http://mirror-pypi:8080/simple/", "verify_ssl": False, "exclude_packages": ["torch"]},
        {"name": "pytorch-cpu", "url": "http://mirror-cpu:8080/simple/", "include_packages": ["torch"], "verify_ssl": False},
    ]
    pdm = "/opt/tools/pdm/bin/pdm"
    assert operations("pdm") == [
        ("venv", (pdm, "venv", "create", "/usr/bin/python3.11")),
        ("lock", (pdm, "lock")),
        ("install", (pdm, "install")),
    ]


def test_pipenv_files_and_steps():
    data = tomllib.loads(ADAPTERS["pipenv"].project_files("a", ("numpy>=1.26", "requests[socks]; python_version>='3'", "torch"),
                                                          MIRROR, "3.11")["Pipfile"])  # fmt: skip
    assert data["source"] == [
        {"name": "mirror", "url": "http://mirror-pypi:8080/simple/", "verify_ssl": False},
        {"name": "pytorch-cpu", "url": "http://mirror-cpu:8080/simple/", "verify_ssl": False},
    ]
    assert data["packages"] == {
        "numpy": ">=1.26",
        "requests": {"version": "*", "extras": ["socks"], "markers": 'python_version >= "3"'},
        "torch": {"version": "*", "index": "pytorch-cpu"},
    }
    assert data["requires"] == {"python_version": "3.11"}
    pipenv = "/opt/tools/pipenv/bin/pipenv"
    assert operations("pipenv") == [("lock", (pipenv, "lock")), ("install", (pipenv, "sync"))]
    env = dict(ADAPTERS["pipenv"].install_steps(tool_sandbox("pipenv"), "a", REQUIREMENTS, MIRROR)[0].env)
    assert env["PIPENV_VENV_IN_PROJECT"] == "1" and env["PIPENV_PYTHON"] == "/usr/bin/python3.11"


def test_hatch_files_and_steps():
    data = project_file("hatch", "pyproject.toml")
    assert data["tool"]["hatch"]["envs"]["default"] == {"path": ".venv", "skip-install": True, "dependencies": list(REQUIREMENTS)}
    [(operation, argv)] = operations("hatch")
    assert (operation, argv) == ("install", ("/opt/tools/hatch/bin/hatch", "env", "create"))
    env = dict(ADAPTERS["hatch"].install_steps(tool_sandbox("hatch"), "a", REQUIREMENTS, MIRROR)[0].env)
    # Hatch runs pip: the mirror reaches it through pip's variables.
    assert env["PIP_INDEX_URL"] == "http://mirror-pypi:8080/simple/"
    assert env["PIP_EXTRA_INDEX_URL"] == "http://mirror-cpu:8080/simple/"
    assert env["PIP_TRUSTED_HOST"] == "mirror-cpu mirror-pypi"
    assert env["HATCH_PYTHON"] == "/usr/bin/python3.11"


def test_conda_and_pixi_are_unavailable_without_binary_or_channel():
    for name, variable in (("conda", "ENVBENCH_MICROMAMBA"), ("pixi", "ENVBENCH_PIXI")):
        adapter = ADAPTERS[name]
        assert variable in adapter.unavailable(MIRROR, {})
        no_channel = PackageSource(index_url="http://m/simple/")
        assert "converts one from the mirror" in adapter.unavailable(no_channel, {variable: "/bin/true"})
        assert adapter.unavailable(MIRROR, {variable: "/bin/true"}) is None
        assert adapter.external_binary({variable: "/x/bin"}) == "/x/bin"


def test_conda_and_pixi_steps():
    [(operation, argv)] = operations("conda")
    # torch is pinned to the pytorch-cpu index: the converted channel's builds of that index
    assert operation == "install" and argv == (
        "/opt/tools/conda/bin/micromamba", "create", "--yes", "--prefix", "/bench/conda/projects/app-01/.conda",
        "--override-channels", "--channel", "file:///channel", "python 3.11.*", "numpy >=1.26", "torch * *_pytorch_cpu_*",
    )  # fmt: skip
    pixi = "/opt/tools/pixi/bin/pixi"
    assert operations("pixi") == [("lock", (pixi, "lock")), ("install", (pixi, "install"))]
    manifest = project_file("pixi", "pixi.toml")
    assert manifest["workspace"] == {"name": "app-01", "channels": ["file:///channel"], "platforms": ["linux-64"]}
    torch = {"version": "*", "build": "*_pytorch_cpu_*"}
    assert manifest["dependencies"] == {"python": "3.11.*", "numpy": ">=1.26", "torch": torch}


def test_conda_specs_judge_markers_and_name_extras_and_indexes():
    from harness.tools.conda_names import conda_specs

    requirements = ("numpy>=1.26,!=2.0.1", 'colorama; sys_platform == "win32"', 'tomli; python_version < "3.12"',
                    "fastapi[standard,all]>=0.110", "torch==2.13.0+cpu", "Typing_Extensions")  # fmt: skip
    assert conda_specs(requirements, "3.11", {"torch": "pytorch-cpu"}) == [
        "python 3.11.*", "numpy !=2.0.1,>=1.26", "tomli", "fastapi >=0.110", "fastapi-with-all", "fastapi-with-standard",
        "torch ==2.13.0+cpu *_pytorch_cpu_*", "typing-extensions",
    ]  # fmt: skip
    assert "tomli" not in conda_specs(requirements, "3.13")  # its marker excludes 3.13


def test_rattler_locks_then_installs_from_the_channel_with_its_own_cache():
    sandbox = dataclasses.replace(tool_sandbox("rattler"), scripts="/opt/envbench")
    steps = ADAPTERS["rattler"].install_steps(sandbox, "app-01", REQUIREMENTS, MIRROR)
    driver = ("/opt/tools/rattler/bin/python", "/opt/envbench/rattler_driver.py")
    common = ("--platform", "linux-64", "--cache-dir", "/bench/rattler/cache/rattler")
    assert [(s.operation, s.argv, s.cwd) for s in steps] == [
        ("lock", (*driver, "lock", "--channel", "file:///channel", "--lock", "pixi.lock", *common,
                  "python 3.11.*", "numpy >=1.26", "torch * *_pytorch_cpu_*"), "/bench/rattler/projects/app-01"),
        ("install", (*driver, "install", "--lock", "pixi.lock", "--prefix", "/bench/rattler/projects/app-01/.pixi/envs/default",
                     *common), "/bench/rattler/projects/app-01"),
    ]  # fmt: skip
    assert dict(steps[0].env)["HOME"] == "/bench/rattler/home"  # nothing of the user's
    assert ADAPTERS["rattler"].unavailable(MIRROR, {}) is None
    assert "conda channel" in ADAPTERS["rattler"].unavailable(PackageSource(index_url="http://m/simple/"), {})
    assert ADAPTERS["rattler"].parse_version("py-rattler 0.28.0\n") == "0.28.0"


def test_a_variant_is_its_tool_with_more_environment():
    from harness.tools.variant import variant

    copy = variant("uv-copy", ADAPTERS["uv"], {"UV_LINK_MODE": "copy"})
    assert copy.name == "uv-copy" and copy.venv_name() == "uv" and copy.variant_of == "uv"
    base_steps = ADAPTERS["uv"].install_steps(tool_sandbox("uv"), "a", REQUIREMENTS, MIRROR)
    steps = copy.install_steps(tool_sandbox("uv"), "a", REQUIREMENTS, MIRROR)
    assert [s.argv for s in steps] == [s.argv for s in base_steps]
    assert all(dict(s.env)["UV_LINK_MODE"] == "copy" for s in steps)
    assert "UV_LINK_MODE" not in dict(base_steps[0].env) and ADAPTERS["uv"].name == "uv"  # the base is untouched


def test_pip_tools_compiles_then_syncs_into_a_venv():
    adapter = ADAPTERS["pip-tools"]
    sandbox = Sandbox(root="/bench/pt", python="/usr/bin/python3.11", tool_bin="/opt/tools/pip-tools/bin")
    source = PackageSource(index_url="http://mirror:8080/simple/", trusted_hosts=("mirror",), pinned=TORCH_CPU.pinned)
    files = adapter.project_files("app-01", REQUIREMENTS, source, "3.11")
    assert files == {"requirements.in": "numpy>=1.26\ntorch\n"}
    venv, lock, install = adapter.install_steps(sandbox, "app-01", REQUIREMENTS, source)
    assert venv.argv == ("/usr/bin/python3.11", "-m", "venv", "/bench/pt/projects/app-01/.venv")
    mirror_args = ("--index-url", "http://mirror:8080/simple/", "--trusted-host", "mirror",
                   "--extra-index-url", "https://download.pytorch.org/whl/cpu")  # fmt: skip
    assert lock.operation == "lock" and lock.cwd == "/bench/pt/projects/app-01"
    assert lock.argv == (
        "/opt/tools/pip-tools/bin/pip-compile", "--quiet", "--strip-extras", "--allow-unsafe",
        "--cache-dir", "/bench/pt/cache/pip-tools", *mirror_args, "--output-file", "requirements.txt", "requirements.in",
    )  # fmt: skip
    assert install.argv == (
        "/opt/tools/pip-tools/bin/pip-sync", "--python-executable", "/bench/pt/projects/app-01/.venv/bin/python",
        *mirror_args, "requirements.txt",
    )  # fmt: skip
    assert dict(install.env)["PIP_CONFIG_FILE"] == "/dev/null"
    assert adapter.lock_file == "requirements.txt" and adapter.parse_version("pip-compile, version 7.6.2\n") == "7.6.2"


def test_the_mirror_resolves_with_the_uv_the_adapter_measures():
    import tomllib
    from pathlib import Path

    from harness.tools.uv import VERSION

    pins = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"uv=={VERSION}" in pins


def test_bytecode_modes_reach_each_install_step_or_say_there_is_no_option():
    text = 'name: s\npython: "3.11"\nprojects:\n  - name: app\n    dependencies: [six]\n'
    source = PackageSource(index_url="http://mirror/simple/")
    expected = {("uv", "compile"): "--compile-bytecode", ("pip-venv", "skip"): "--no-compile",
                ("pip-tools", "skip"): "--no-compile", ("poetry", "compile"): "--compile",
                ("uv-project", "compile"): "--compile-bytecode"}  # fmt: skip
    for (tool, mode), flag in expected.items():
        adapter = adapter_for(parse(text + f"bytecode: {mode}\n"), tool)
        install = next(s for s in adapter.install_steps(SANDBOX, "app", ("six",), source) if s.operation == "install")
        assert flag in install.argv, (tool, mode, install.argv)
        default = next(s for s in ADAPTERS[tool].install_steps(SANDBOX, "app", ("six",), source) if s.operation == "install")
        assert flag not in default.argv  # the registry's own adapter is untouched
    pdm = adapter_for(parse(text + "bytecode: compile\n"), "pdm")
    assert pdm.bytecode_setting() == "compile: no option in pdm, its default used"
