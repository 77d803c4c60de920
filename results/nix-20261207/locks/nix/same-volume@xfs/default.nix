# Written by envbench's nix stand-in (nix_driver.py lock) from pip's resolution.
let
  python = "/usr/bin/python3.11";
  builder = builtins.path { path = /opt/envbench/nix_builder.py; name = "envbench-nix-builder.py"; };
  wheel = name: file: url: sha256: derivation {
    inherit name;
    system = builtins.currentSystem;
    builder = python;
    args = [ builder "wheel" python ];
    src = import <nix/fetchurl.nix> { inherit url sha256; name = file; };
  };
  packages = [
    (wheel "python3.11-annotated-doc-0.0.7" "annotated_doc-0.0.7-py3-none-any.whl" "https://mirror-pypi:8443/files/annotated_doc-0.0.7-py3-none-any.whl" "6bc31bbbec6dfaaedc1676dbc11dbda96fe22a2b5c400e9ebad113fec44a9dc6")
    (wheel "python3.11-annotated-types-0.8.0" "annotated_types-0.8.0-py3-none-any.whl" "https://mirror-pypi:8443/files/annotated_types-0.8.0-py3-none-any.whl" "f072f4d804ea359e4eaf198b1af7a8b0943881a87f31bb764f8bf219bb9419e0")
    (wheel "python3.11-anyio-4.16.0" "anyio-4.16.0-py3-none-any.whl" "https://mirror-pypi:8443/files/anyio-4.16.0-py3-none-any.whl" "c66ae634e0b8228396b801741beb3294326d4b6102f7bba4041c0dfb58c29026")
    (wheel "python3.11-fastapi-0.165.0" "fastapi-0.165.0-py3-none-any.whl" "https://mirror-pypi:8443/files/fastapi-0.165.0-py3-none-any.whl" "896f48462042bb4f162147eb8fac7e858753dc1f486765709baf105d70e4fc5b")
    (wheel "python3.11-filelock-4.3.2" "filelock-4.3.2-py3-none-any.whl" "https://mirror-pypi:8443/files/filelock-4.3.2-py3-none-any.whl" "02a8801bc6b2a80921bf3d7895c63084d53bae2a3c86783adce5ae2b89a1825b")
    (wheel "python3.11-fsspec-2026.9.0" "fsspec-2026.9.0-py3-none-any.whl" "https://mirror-pypi:8443/files/fsspec-2026.9.0-py3-none-any.whl" "8dd6e646e99ea382bd85f97a45e6b526a442d79423a7dc673f1e2756d05fcb5f")
    (wheel "python3.11-idna-3.21" "idna-3.21-py3-none-any.whl" "https://mirror-pypi:8443/files/idna-3.21-py3-none-any.whl" "387ab0bbea1ee7a196ea5b24eb007bad0242cc3127fe96713939942bc9e720d7")
    (wheel "python3.11-Jinja2-3.1.6" "jinja2-3.1.6-py3-none-any.whl" "https://mirror-pypi:8443/files/jinja2-3.1.6-py3-none-any.whl" "85ece4451f492d0c13c5dd7c13a64681a86afae63a5f347908daf103ce6d2f67")
    (wheel "python3.11-MarkupSafe-3.0.4" "markupsafe-3.0.4-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl" "https://mirror-pypi:8443/files/markupsafe-3.0.4-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl" "6da83a088f8ef93b2d483a8232a4dbf4d69d3d8496b568a03c56becac43e1808")
    (wheel "python3.11-mpmath-1.3.0" "mpmath-1.3.0-py3-none-any.whl" "https://mirror-pypi:8443/files/mpmath-1.3.0-py3-none-any.whl" "a0b2b9fe80bbcd81a6647ff13108738cfb482d481d826cc0e02f5b35e5c88d2c")
    (wheel "python3.11-networkx-3.6.1" "networkx-3.6.1-py3-none-any.whl" "https://mirror-pypi:8443/files/networkx-3.6.1-py3-none-any.whl" "d47fbf302e7d9cbbb9e2555a0d267983d2aa476bac30e90dfbe5669bd57f3762")
    (wheel "python3.11-numpy-2.4.6" "numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl" "https://mirror-pypi:8443/files/numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl" "89cd468399cfd2504718f0ba50e410dca55a170b61a02ad92bb18c8a65186e93")
    (wheel "python3.11-opentelemetry-api-1.45.3" "opentelemetry_api-1.45.3-py3-none-any.whl" "https://mirror-pypi:8443/files/opentelemetry_api-1.45.3-py3-none-any.whl" "7b9fcabfdfda5167446caa86641f085915fc1eb7ea9cbd23038c861f6a3c02bf")
    (wheel "python3.11-pandas-3.1.2" "pandas-3.1.2-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl" "https://mirror-pypi:8443/files/pandas-3.1.2-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl" "430246ff24c68d22e83a00976928095bee4bf82885ce5123ef71baa0f303dbbd")
    (wheel "python3.11-pydantic-2.14.4" "pydantic-2.14.4-py3-none-any.whl" "https://mirror-pypi:8443/files/pydantic-2.14.4-py3-none-any.whl" "653a2ad9f6d8858529c77c72717d0ea991d6c6837fe683246b2f4b2bbfc3fadc")
    (wheel "python3.11-pydantic_core-2.50.5" "pydantic_core-2.50.5-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl" "https://mirror-pypi:8443/files/pydantic_core-2.50.5-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl" "488319076ec92908b91fc6265ce761f1d78748f69f85518564fd16bf333e1b70")
    (wheel "python3.11-python-dateutil-4.0.0" "python_dateutil-4.0.0-py3-none-any.whl" "https://mirror-pypi:8443/files/python_dateutil-4.0.0-py3-none-any.whl" "a5e246f79eb80475e691bf93862cead98decd8a498cf53ba0516fcdc0f50dc1c")
    (wheel "python3.11-setuptools-84.2.1" "setuptools-84.2.1-py3-none-any.whl" "https://mirror-pypi:8443/files/setuptools-84.2.1-py3-none-any.whl" "ca140b45d5325a9478f880e351484f62fef15f336462e449ca0c03c873d589c2")
    (wheel "python3.11-starlette-1.10.0" "starlette-1.10.0-py3-none-any.whl" "https://mirror-pypi:8443/files/starlette-1.10.0-py3-none-any.whl" "478c0ab3b4ced6e82719849c118fa406f0278a3499c1a898cd15cd31bdc38ce4")
    (wheel "python3.11-sympy-1.14.0" "sympy-1.14.0-py3-none-any.whl" "https://mirror-pypi:8443/files/sympy-1.14.0-py3-none-any.whl" "e091cc3e99d2141a0ba2847328f5479b05d94a6635cb96148ccb3f34671bd8f5")
    (wheel "python3.11-torch-2.13.0+cpu" "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl" "https://mirror-pytorch-cpu:8443/files/torch-2.13.0%2Bcpu-cp311-cp311-manylinux_2_28_x86_64.whl" "6746dbcbeb526eb61330b76b41ff1b4eb848951103a892eeb080dfa2b264667b")
    (wheel "python3.11-typing-inspection-0.4.5" "typing_inspection-0.4.5-py3-none-any.whl" "https://mirror-pypi:8443/files/typing_inspection-0.4.5-py3-none-any.whl" "bc210535442b39e1bf2805e0c7a17dfd6a4ace760c84c7f7d16245d23a6b1c39")
    (wheel "python3.11-typing_extensions-4.16.0" "typing_extensions-4.16.0-py3-none-any.whl" "https://mirror-pypi:8443/files/typing_extensions-4.16.0-py3-none-any.whl" "481caa481374e813c1b176ada14e97f1f67a4539ce9cfeb3f350d78d6370c2e8")
    (wheel "python3.11-tzdata-2026.6" "tzdata-2026.6-py2.py3-none-any.whl" "https://mirror-pypi:8443/files/tzdata-2026.6-py2.py3-none-any.whl" "0a10eec6e13ef16b627fabed9a5f2ba61a62b1c67f327305f4e7e412a70b4aec")
  ];
in derivation {
  name = "python3.11-env";
  system = builtins.currentSystem;
  builder = python;
  args = [ builder "env" python ];
  inherit packages;
}
