"""The states of the time matrix, after pnpm's benchmark:
- cold: empty cache, no lock file, no env;
- warm: the cache kept, lock file and env removed;
- locked: the lock file kept, cache and env removed;
- warm+locked: cache and lock file kept, env removed.
A tool without a lock file has only cold and warm.
"""

from __future__ import annotations

COLD, WARM, LOCKED, WARM_LOCKED = "cold", "warm", "locked", "warm+locked"
STATES = (COLD, WARM, LOCKED, WARM_LOCKED)
LOCKLESS_STATES = (COLD, WARM)


def states_of(lockable: bool) -> tuple[str, ...]:
    return STATES if lockable else LOCKLESS_STATES
