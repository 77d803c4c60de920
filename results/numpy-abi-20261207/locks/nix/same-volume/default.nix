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
    (wheel "python3.11-idna-3.21" "idna-3.21-py3-none-any.whl" "https://mirror-pypi:8443/files/idna-3.21-py3-none-any.whl" "387ab0bbea1ee7a196ea5b24eb007bad0242cc3127fe96713939942bc9e720d7")
    (wheel "python3.11-numpy-1.26.4" "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl" "https://mirror-pypi:8443/files/numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl" "666dbfb6ec68962c033a450943ded891bed2d54e6755e35e5835d63f4f6931d5")
    (wheel "python3.11-opentelemetry-api-1.45.3" "opentelemetry_api-1.45.3-py3-none-any.whl" "https://mirror-pypi:8443/files/opentelemetry_api-1.45.3-py3-none-any.whl" "7b9fcabfdfda5167446caa86641f085915fc1eb7ea9cbd23038c861f6a3c02bf")
    (wheel "python3.11-pandas-2.1.4" "pandas-2.1.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl" "https://mirror-pypi:8443/files/pandas-2.1.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl" "d797591b6846b9db79e65dc2d0d48e61f7db8d10b2a9480b4e3faaddc421a171")
    (wheel "python3.11-pydantic-2.14.4" "pydantic-2.14.4-py3-none-any.whl" "https://mirror-pypi:8443/files/pydantic-2.14.4-py3-none-any.whl" "653a2ad9f6d8858529c77c72717d0ea991d6c6837fe683246b2f4b2bbfc3fadc")
    (wheel "python3.11-pydantic_core-2.50.5" "pydantic_core-2.50.5-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl" "https://mirror-pypi:8443/files/pydantic_core-2.50.5-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl" "488319076ec92908b91fc6265ce761f1d78748f69f85518564fd16bf333e1b70")
    (wheel "python3.11-python-dateutil-4.0.0" "python_dateutil-4.0.0-py3-none-any.whl" "https://mirror-pypi:8443/files/python_dateutil-4.0.0-py3-none-any.whl" "a5e246f79eb80475e691bf93862cead98decd8a498cf53ba0516fcdc0f50dc1c")
    (wheel "python3.11-pytz-2026.6" "pytz-2026.6-py2.py3-none-any.whl" "https://mirror-pypi:8443/files/pytz-2026.6-py2.py3-none-any.whl" "7fed3fee8fd6bd4a2b7b75a8d56021d0624127bf69bd5691f115db929ac570b3")
    (wheel "python3.11-starlette-1.10.0" "starlette-1.10.0-py3-none-any.whl" "https://mirror-pypi:8443/files/starlette-1.10.0-py3-none-any.whl" "478c0ab3b4ced6e82719849c118fa406f0278a3499c1a898cd15cd31bdc38ce4")
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
