"""The generic part of run.json's records: JSON in and out, field by field, in declaration order.

`from_json` takes what any run.json since schema 1 holds (a key an older run lacks reads as its
default: an optional key as None, and is left out again on writing, so an old run's record
round-trips unchanged); keys a record does not name are kept in `extra` and written back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields


def optional(default=None, **more):
    """A key older runs may lack: None reads as absent and is not written."""
    return field(default=default, metadata={"optional": True, **more})


def nested(kind: str, record: type, optional_key: bool = False):
    """A list or dict (by name) of RECORDs."""
    factory = list if kind == "list" else dict
    return field(default_factory=factory, metadata={"nested": (kind, record), "optional": optional_key})


def one(record: type, optional_key: bool = True):
    """One RECORD or None; with OPTIONAL_KEY, under a key older runs may lack (None: absent)."""
    return field(default=None, metadata={"nested": ("one", record), "optional": optional_key})


OWN = ("extra", "present")  # a record's own fields, not keys of its JSON


@dataclass(kw_only=True)
class Record:
    """The generic part: JSON in and out, field by field, in declaration order. `extra`: the keys
    no field names, written back as they came; `present`: the keys the JSON read had, so that an
    optional key given as null is written back as null."""

    extra: dict = field(default_factory=dict)
    present: frozenset = field(default=frozenset(), repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict):
        values, named = {}, set()
        for f in fields(cls):
            if f.name in OWN:
                continue
            named.add(f.name)
            if f.name in data:
                values[f.name] = _load(f, data[f.name])
        return cls(**values, extra={k: v for k, v in data.items() if k not in named}, present=frozenset(data))

    def to_json(self) -> dict:
        out = {}
        for f in fields(self):
            if f.name in OWN:
                continue
            value = getattr(self, f.name)
            empty = value is None or (f.metadata.get("nested") and not value)
            if f.metadata.get("optional") and empty and f.name not in self.present:
                continue
            out[f.name] = _dump(f, value)
        return {**out, **self.extra}


def _load(f, value):
    kind, record = f.metadata.get("nested", (None, None))
    if value is None:
        return None
    if kind == "one":
        return record.from_json(value)
    if kind == "list":
        return [record.from_json(item) for item in value]
    if kind == "dict":
        return {key: record.from_json(item) for key, item in value.items()}
    return value


def _dump(f, value):
    kind, _ = f.metadata.get("nested", (None, None))
    if value is None:
        return None
    if kind == "one":
        return value.to_json()
    if kind == "list":
        return [item.to_json() for item in value]
    if kind == "dict":
        return {key: item.to_json() for key, item in value.items()}
    return value
