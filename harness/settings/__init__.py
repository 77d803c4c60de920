"""What every stage shares: envbench's home and pinned venvs, this host's Pythons and package
sources (pip's configuration), and the target every env is made for."""
