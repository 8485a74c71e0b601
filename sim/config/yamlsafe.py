"""Safe, strict YAML: the YAML 1.2 core schema, bounded, with errors naming line and key.

PyYAML implements YAML 1.1, whose implicit types surprise: ``014`` is octal 12, ``12:30`` is
the sexagesimal number 750, ``yes``/``no``/``on``/``off`` are booleans, and ``!!set`` builds a
Python set whose order (and so a config's meaning and hash) depends on ``PYTHONHASHSEED``.
:class:`StrictLoader` is a :class:`yaml.SafeLoader` with the resolvers and constructors of the
YAML 1.2 core schema instead:

* ``null``/``Null``/``NULL``/``~``/empty are null; ``true``/``false`` (three spellings) are
  booleans; ``[-+]?[0-9]+``, ``0o17`` and ``0x1F`` are integers (``014`` is 14);
  ``1.5``, ``1e3``, ``.inf``, ``.nan`` are floats; every other plain scalar is a string
  (``yes``, ``on``, ``12:30``, ``1_000``).
* Two extensions of the core schema are kept: ISO dates (``2026-01-01``) are dates, and the
  merge key ``<<`` merges mappings.
* Explicit tags other than those of the schema (``!!set``, ``!!omap``, ``!!binary``,
  ``!!python/...``, local ``!tags``) are refused, naming the line and the key path, and so are
  integers of more than :data:`MAX_INT_CHARS` characters (Python refuses to convert integers of
  more than 4,300 digits) and strings holding lone surrogates (not Unicode text).

Duplicate keys, impossible dates, nesting deeper than :data:`MAX_DEPTH` and documents that
expand past :data:`MAX_NODES` nodes (alias bombs) are errors too. Files are read through
:func:`sim.base.safeio.read_input` (regular files only, at most 5 MB).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from sim.base.errors import ConfigError, Problem
from sim.base.safeio import has_surrogates, read_input

MAX_NODES = 200_000
"""Most nodes a document may expand to, aliases counted each time they are used."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists accepted (a config is about six levels deep)."""
MAX_INT_CHARS = 100
"""Longest integer literal read (no limit of a config comes near 20 digits)."""

TAG = "tag:yaml.org,2002:"
ALLOWED_TAGS = {
    TAG + name for name in ("null", "bool", "int", "float", "str", "map", "seq", "timestamp")
} | {TAG + "merge"}
"""Tags a node may have: the YAML 1.2 core schema, ISO dates and the merge key."""

_INT10 = re.compile(r"[-+]?[0-9]+")
_INT8 = re.compile(r"0o[0-7]+")
_INT16 = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)")
_NAN = re.compile(r"\.(nan|NaN|NAN)")
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")


class TooLargeError(ConfigError):
    """The document is past the size limits (alias bomb, deep nesting)."""


class StrictLoader(yaml.SafeLoader):
    """A safe YAML 1.2 core-schema loader that refuses duplicate keys and deep nesting."""

    yaml_implicit_resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}
    yaml_constructors: dict[str | None, Any] = {}
    yaml_multi_constructors: dict[str, Any] = {}
    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        """Compose a node, refusing nesting deeper than :data:`MAX_DEPTH`.

        PyYAML's scanner does work proportional to the nesting depth for every token, so a few
        kilobytes of ``[[[[...`` would take seconds to reject by recursion limit alone.
        """
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise TooLargeError(
                    Problem(
                        "",
                        f"YAML is nested more than {MAX_DEPTH} levels deep "
                        f"(line {self.peek_event().start_mark.line + 1})",
                    )
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _resolver(tag: str, pattern: str, first: list[str]) -> None:
    StrictLoader.add_implicit_resolver(TAG + tag, re.compile(f"^(?:{pattern})$"), first)


_DIGITS = list("0123456789")
_resolver("null", "~|null|Null|NULL|", ["~", "n", "N", ""])
_resolver("bool", "true|True|TRUE|false|False|FALSE", list("tTfF"))
_resolver("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", ["-", "+", *_DIGITS])
_resolver(
    "float",
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
    r"|\.(?:nan|NaN|NAN)",
    ["-", "+", ".", *_DIGITS],
)
_resolver(
    "timestamp",
    r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
    r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?"
    r":[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?",
    _DIGITS,
)
_resolver("merge", "<<", ["<"])


def _error(node: yaml.Node, message: str) -> yaml.constructor.ConstructorError:
    return yaml.constructor.ConstructorError(None, None, message, node.start_mark)


def _construct_int(loader: StrictLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if len(text) > MAX_INT_CHARS:
        raise _error(node, f"an integer of {len(text):,} characters (at most {MAX_INT_CHARS})")
    if _INT10.fullmatch(text):
        return int(text, 10)
    if _INT8.fullmatch(text):
        return int(text[2:], 8)
    if _INT16.fullmatch(text):
        return int(text[2:], 16)
    raise _error(node, f"not an integer: {text[:40]!r}")


def _construct_float(loader: StrictLoader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node)
    if _FLOAT.fullmatch(text):
        return float(text)
    if _INF.fullmatch(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.fullmatch(text):
        return float("nan")
    raise _error(node, f"not a number: {text[:40]!r}")


def _construct_bool(loader: StrictLoader, node: yaml.ScalarNode) -> bool:
    text = loader.construct_scalar(node)
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise _error(node, f"not a boolean: {text[:40]!r} (expected true or false)")


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError as exc:
            raise _error(key_node, "mapping keys must be plain scalars") from exc
        if key in out:
            raise _error(key_node, f"duplicate key '{key}'")
        out[key] = loader.construct_object(value_node, deep=deep)
    return out


def _construct_timestamp(loader: StrictLoader, node: yaml.ScalarNode) -> Any:
    """Build a date, turning an impossible one (``2026-02-30``) into a YAML error with its line."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as exc:
        raise _error(node, f"not a valid date ({exc})") from None


for _tag, _build in (
    ("null", yaml.SafeLoader.construct_yaml_null),
    ("bool", _construct_bool),
    ("int", _construct_int),
    ("float", _construct_float),
    ("str", yaml.SafeLoader.construct_yaml_str),
    ("seq", yaml.SafeLoader.construct_yaml_seq),
    ("map", _construct_mapping),
    ("timestamp", _construct_timestamp),
):
    StrictLoader.add_constructor(TAG + _tag, _build)
StrictLoader.add_constructor(None, yaml.SafeLoader.construct_undefined)


def _shown_tag(tag: str) -> str:
    return "!!" + tag[len(TAG) :] if tag.startswith(TAG) else tag


def _key_path(parts: tuple[str, ...]) -> str:
    out = ""
    for part in parts:
        out += part if part.startswith("[") else (f".{part}" if out else part)
    return out


def check_nodes(node: yaml.Node, limit: int = MAX_NODES) -> None:
    """Walk a composed document as it would be expanded; refuse what the schema does not allow.

    Raises
    ------
    ConfigError
        (without a file name) for a tag outside :data:`ALLOWED_TAGS` or a string with lone
        surrogates, naming the line, column and key path; :class:`TooLargeError` when the
        document expands to more than ``limit`` nodes (aliases counted each time they are used)
        or, through aliases, deeper than :data:`MAX_DEPTH` levels (an alias inside its own
        anchor would expand for ever).
    """
    count = 0
    stack: list[tuple[yaml.Node, tuple[str, ...]]] = [(node, ())]
    while stack:
        n, path = stack.pop()
        count += 1
        if count > limit:
            raise TooLargeError(
                Problem(
                    "",
                    f"document expands to more than {limit} nodes (alias bomb or oversized file)",
                )
            )
        mark = n.start_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        if len(path) > MAX_DEPTH:  # aliases nest deeper than the text; `&a [*a]` without end
            raise TooLargeError(
                Problem(
                    _key_path(path[:4]),
                    f"invalid YAML: {where}: nested more than {MAX_DEPTH} levels deep once "
                    "aliases are expanded (an alias inside its own anchor?)",
                )
            )
        _check_node(n, path, where)
        stack.extend(reversed(_children(n, path)))  # the first problem in document order wins


def _check_node(n: yaml.Node, path: tuple[str, ...], where: str) -> None:
    """Refuse a node whose tag is outside the schema, an oversized integer or a lone surrogate."""
    if n.tag not in ALLOWED_TAGS:
        raise ConfigError(
            Problem(
                _key_path(path),
                f"invalid YAML: {where}: the tag {_shown_tag(n.tag)} is not allowed "
                "(YAML 1.2 core schema: strings, numbers, true/false, null, lists, "
                "mappings and dates)",
            )
        )
    if n.tag == TAG + "int" and len(n.value) > MAX_INT_CHARS:
        raise ConfigError(
            Problem(
                _key_path(path),
                f"invalid YAML: {where}: an integer of {len(n.value):,} characters "
                f"(at most {MAX_INT_CHARS})",
            )
        )
    if isinstance(n, yaml.ScalarNode) and has_surrogates(n.value):
        raise ConfigError(
            Problem(
                _key_path(path),
                f"invalid YAML: {where}: not Unicode text (a lone "
                "surrogate escape such as \\udcff)",
            )
        )


def _children(n: yaml.Node, path: tuple[str, ...]) -> list[tuple[yaml.Node, tuple[str, ...]]]:
    """Return the child nodes of ``n`` (keys and values of a mapping) with their key paths."""
    children: list[tuple[yaml.Node, tuple[str, ...]]] = []
    if isinstance(n, yaml.SequenceNode):
        children = [(v, (*path, f"[{i}]")) for i, v in enumerate(n.value)]
    elif isinstance(n, yaml.MappingNode):
        for k, v in n.value:
            label = str(k.value)[:64] if isinstance(k, yaml.ScalarNode) else "?"
            children += [(k, (*path, label)), (v, (*path, label))]
    return children


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping from ``path`` safely.

    Raises
    ------
    ConfigError
        If the file is missing, not a regular file (a FIFO or a device is never opened for
        reading), larger than :data:`~sim.base.limits.MAX_INPUT_BYTES`, not UTF-8, not YAML, or not
        a mapping.
    """
    name = str(path)
    raw = read_input(path, "file", ConfigError)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(Problem("", f"not valid UTF-8 (byte {exc.start})"), name) from None
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str | None = None) -> dict[str, Any]:
    """Parse YAML text into a mapping with the same safety rules as :func:`read_yaml`."""
    data = parse_yaml_value(text, name)
    if not isinstance(data, dict):
        raise ConfigError(
            Problem("", f"expected a mapping at the top level, found {type(data).__name__}"), name
        )
    return data


def parse_yaml_value(text: str, name: str | None = None) -> Any:
    """Parse one YAML document of any kind (strict, safe and size-bounded like :func:`read_yaml`).

    Raises
    ------
    ConfigError
        If the text is empty, not YAML, uses a type outside the core schema, or expands to too
        many nodes.
    """
    try:
        loader = StrictLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise ConfigError(Problem("", "the file is empty (expected a mapping)"), name)
            check_nodes(node)
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(Problem("", f"invalid YAML: {where}{problem}"), name) from None
    except RecursionError:
        raise TooLargeError(Problem("", "YAML is nested too deeply"), name) from None
    except ConfigError as exc:
        if exc.file is None and name is not None:
            raise type(exc)(exc.problems, name) from None
        raise
    return data


class SafeDumper(yaml.SafeDumper):
    """``yaml.SafeDumper`` that also quotes strings the core schema would read as non-strings.

    PyYAML decides whether a string needs quotes by its YAML 1.1 resolvers, so ``"1e3"`` would
    be written plain and read back by :class:`StrictLoader` as the float 1000.0.
    """


for _first, _resolvers in StrictLoader.yaml_implicit_resolvers.items():
    for _tag, _regexp in _resolvers:
        SafeDumper.add_implicit_resolver(_tag, _regexp, [_first])


def dump_yaml(data: Any, **options: Any) -> str:
    """Return ``data`` as YAML that :class:`StrictLoader` reads back unchanged."""
    return yaml.dump(data, Dumper=SafeDumper, **options)


__all__ = [
    "ALLOWED_TAGS",
    "MAX_DEPTH",
    "MAX_INT_CHARS",
    "MAX_NODES",
    "SafeDumper",
    "StrictLoader",
    "TooLargeError",
    "check_nodes",
    "dump_yaml",
    "parse_yaml",
    "parse_yaml_value",
    "read_yaml",
]
