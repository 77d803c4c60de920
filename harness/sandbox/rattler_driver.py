"""The `rattler` tool's command line: py-rattler (the library pixi installs envs with) driven as
pixi drives it, `lock` (solve, write pixi.lock) then `install` (the env from the lock).

Runs with the tool's own pinned venv (py-rattler and nothing else), inside the sandbox: the
tool adapter (harness/tools/rattler.py) says which arguments; nothing here knows envbench.

  rattler_driver.py lock --channel URL --platform linux-64 --cache-dir DIR --lock FILE SPEC...
  rattler_driver.py install --lock FILE --prefix DIR --cache-dir DIR
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

ENVIRONMENT = "default"


async def lock(args) -> int:
    from rattler import Gateway, LockChannel, LockFile, LockPlatform, solve

    gateway = Gateway(cache_dir=os.path.join(args.cache_dir, "repodata"))
    records = await solve(sources=[args.channel], specs=args.specs, gateway=gateway, platforms=[args.platform, "noarch"])
    lock_file = LockFile([LockPlatform(args.platform)])
    lock_file.set_channels(ENVIRONMENT, [LockChannel(args.channel)])
    for record in records:
        lock_file.add_conda_package(ENVIRONMENT, LockPlatform(args.platform), record)
    lock_file.to_path(args.lock)
    print(f"locked {len(records)} packages into {args.lock}")
    return 0


async def install(args) -> int:
    from rattler import LockFile, install

    lock_file = LockFile.from_path(args.lock)
    environment = lock_file.environment(ENVIRONMENT)
    # The lock file's own platform record: py-rattler refuses a new one here.
    platform = next((p for p in lock_file.platforms() if p.name == args.platform), None)
    records = environment.conda_repodata_records_for_platform(platform) if environment and platform else None
    if not records:
        print(f"{args.lock} locks nothing for {args.platform}", file=sys.stderr)
        return 1
    await install(records, target_prefix=args.prefix, cache_dir=os.path.join(args.cache_dir, "pkgs"), show_progress=False)
    print(f"installed {len(records)} packages into {args.prefix}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="rattler_driver.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    locking = commands.add_parser("lock")
    locking.add_argument("--channel", required=True)
    locking.add_argument("--lock", required=True)
    locking.add_argument("specs", nargs="+")
    installing = commands.add_parser("install")
    installing.add_argument("--lock", required=True)
    installing.add_argument("--prefix", required=True)
    for command in (locking, installing):
        command.add_argument("--platform", required=True)
        command.add_argument("--cache-dir", required=True)
    args = parser.parse_args(argv)
    return asyncio.run(lock(args) if args.command == "lock" else install(args))


def leave(status: int) -> None:
    """Exit with STATUS, skipping the interpreter's shutdown: seen here, py-rattler 0.28 at times
    segfaults (exit 139) during it, after the env is complete. pixi is one Rust binary with no
    such teardown, so what is timed stays the work itself."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    leave(main())
