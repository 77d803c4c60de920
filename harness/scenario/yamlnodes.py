"""Reading YAML node trees so that every refusal names file, line and field.

A scenario is validated node by node (not from the plain dict safe_load gives) because only
nodes carry line numbers; each value is still built by SafeLoader, so nothing unsafe is made.
"""

from __future__ import annotations

import re

import yaml

LONGEST_WORD = 120  # characters of one unbroken value a refusal quotes whole
_LONG = re.compile(rf"\S{{{LONGEST_WORD + 1},}}")


def readable(text: str) -> str:
    """TEXT with each unbroken run longer than LONGEST_WORD cut to its start and its length: a
    refusal quotes the user's value, and a 100 KB line would fill a terminal with it."""
    return _LONG.sub(lambda m: f"{m.group()[:LONGEST_WORD - 20]}… ({len(m.group()):,} characters)", text)


class ScenarioError(Exception):
    """A scenario refused before any work: FILE:LINE: field: what is wrong (one line)."""

    def __init__(self, path: str, line: int, field: str, message: str):
        message = " ".join(readable(message).split())  # one line, whatever the value held
        super().__init__(f"{path}:{line}: {field}: {message}")
        self.path, self.line, self.field, self.message = path, line, field, message


class Reader:
    """Walks the YAML node tree so every error can name the line of the node at fault."""

    def __init__(self, path: str):
        self.path = path

    def fail(self, node, field: str, message: str):
        line = node.start_mark.line + 1 if node is not None else 1
        raise ScenarioError(self.path, line, field, message)

    def mapping(self, node, field: str, allowed: set[str], required: tuple[str, ...] = ()) -> dict[str, tuple]:
        """KEY -> (key node, value node); unknown, repeated or missing REQUIRED keys refused."""
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, field, f"must be a mapping, not {describe(node)}")
        out: dict[str, tuple] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            where = f"{field}.{key}" if field != "scenario" else str(key)
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                self.fail(key_node, where, f"unknown key (known: {known})")
            if key in out:
                self.fail(key_node, where, "duplicate key")
            out[key] = (key_node, value_node)
        prefix = "" if field == "scenario" else f"{field}."
        for key in required:
            if key not in out:
                self.fail(node, f"{prefix}{key}", "missing (required)")
        return out

    def scalar(self, node, field: str, kind: type):
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, field, f"must be {_kind_name(kind)}, not {describe(node)}")
        value = scalar_value(node)
        if type(value) is not kind:  # exact: a YAML bool is not an integer here
            self.fail(node, field, f"must be {_kind_name(kind)}, not {describe(node)}")
        return value

    def integer(self, node, field: str, minimum: int) -> int:
        value = self.scalar(node, field, int)
        if value < minimum:
            self.fail(node, field, f"must be at least {minimum}, not {value}")
        return value

    def sequence(self, node, field: str) -> list:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, field, f"must be a list, not {describe(node)}")
        return node.value


def scalar_value(node):
    """The Python value SafeLoader gives a scalar node (int, float, bool, None or str)."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _kind_name(kind: type) -> str:
    return {int: "an integer", str: "a string", bool: "true or false"}.get(kind, kind.__name__)


def describe(node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    value = scalar_value(node)
    if value is None:
        return "empty"
    return f"{type(value).__name__} {node.value!r}"


def decode(path: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(path, line, "encoding", f"not UTF-8 (byte 0x{data[exc.start]:02x})") from None
