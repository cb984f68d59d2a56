"""Read YAML into plain JSON-like values while keeping where every node came from.

PyYAML's constructor throws the node marks away and keeps the last of two duplicate keys
silently, so we compose with the C composer (which keeps marks) and convert the node tree
with a small walker of our own. The walker refuses what a campaign never needs and what
would hurt: duplicate keys, unsupported tags, explicit tags with values they cannot hold
(`!!int abc`, an integer of more digits than Python reads), deep nesting, and alias bombs
(it counts every node it expands, so a billion-laughs document stops after MAX_NODES, a
file after MAX_FILE_NODES, and a run after MAX_RUN_NODES: provisioner/spec/limits.py).

Marks are not indexed while converting (that would cost on every document); `Document.locate`
re-walks the node tree for the one path a problem is about.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from provisioner.disk import limits
from provisioner.errors import SpecError
from provisioner.disk.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES  # noqa: F401

_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE_LOADER):  # type: ignore[misc, valid-type]
    """The C composer calls back into PyYAML's Python resolver for every node, which was a
    third of composing time. Its answer depends only on (kind, value, implicit) and we add
    no path resolvers, so answers are memoised and the path-resolver hooks skipped."""

    _tags: dict[tuple[Any, ...], str] = {}

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        key = (kind, value if kind is ScalarNode else None, implicit)
        try:
            return self._tags[key]
        except KeyError:
            tag: str = _BASE_LOADER.resolve(self, kind, value, implicit)
            if len(self._tags) < 100_000:   # bounded: scalars are user input
                self._tags[key] = tag
            return tag
        except TypeError:   # an unhashable implicit pair: no memo
            unmemoised: str = _BASE_LOADER.resolve(self, kind, value, implicit)
            return unmemoised


_LOADER = _Loader
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_T = "tag:yaml.org,2002:"
_NULL = _CONSTRUCTOR.construct_yaml_null
_SCALARS = {
    _T + "int": _CONSTRUCTOR.construct_yaml_int,
    _T + "float": _CONSTRUCTOR.construct_yaml_float,
    _T + "bool": _CONSTRUCTOR.construct_yaml_bool,
    _T + "null": _NULL,
}
_MERGE = _T + "merge"
_STR = _T + "str"
_MAP, _SEQ = _T + "map", _T + "seq"
_NULLS = ("", "~", "null", "Null", "NULL")   # construct_yaml_null accepts anything
# The largest integer that has at most as many digits as Python converts to a string (its
# int-str limit, 4,300 by default): a larger one could not even be shown in a message.
_MAX_INT_BITS = int((sys.get_int_max_str_digits() or 10**6) * 3.3219) - 4
_KIND = {MappingNode: "a mapping", SequenceNode: "a list", ScalarNode: "a scalar"}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

PathT = tuple[str | int, ...]


@dataclass(frozen=True)
class Issue:
    """A problem found while reading, already located in the file."""

    line: int
    column: int
    path: str
    message: str


@dataclass
class Document:
    """One YAML document: its converted value (None when unusable) and its node tree."""

    node: Node
    value: Any
    issues: list[Issue] = field(default_factory=list)
    expanded: int = 0   # the nodes converting it walked (aliases expanded each time)

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1

    @property
    def column(self) -> int:
        return self.node.start_mark.column + 1

    def locate(self, path: Sequence[str | int], key: bool = False) -> tuple[int, int]:
        """(line, column) of the node at `path`, or of its deepest existing ancestor.

        With `key`, the mark of the last mapping key itself (for unknown-key problems).
        """
        node = self.node
        last = len(path) - 1
        for i, step in enumerate(path):
            found = _child(node, step, depth=0)
            if found is None:
                return _mark(node)
            knode, node = found
            if key and i == last and knode is not None:
                return _mark(knode)
        return _mark(node)


class _Abort(Exception):
    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node


class RunCapExceeded(SpecError):
    """The spec files of this run expand to more than MAX_RUN_NODES nodes in all. Not a
    property of one file's bytes: its analysis must not be cached."""


def format_path(path: Sequence[str | int]) -> str:
    """`$.a.b[2]['odd key']`: the JSON path of a node."""
    parts = ["$"]
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif _IDENT.match(step):
            parts.append(f".{step}")
        else:
            parts.append("[" + repr(step) + "]")
    return "".join(parts)


def parse(data: bytes) -> tuple[list[Document], list[Issue]]:
    """Decode and compose a file's bytes. Returns its documents and file-level issues
    (size, encoding, syntax, no document). Never raises on bad input."""
    if len(data) > MAX_FILE_BYTES:
        return [], [Issue(1, 1, "$", f"file is larger than {MAX_FILE_BYTES // 1024} KiB "
                                     f"({MAX_FILE_BYTES} bytes), the cap per spec file; split it")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [_bad_utf8(data, exc)]
    docs: list[Document] = []
    left = limits.MAX_FILE_NODES   # nodes the rest of the file may expand
    try:
        for node in yaml.compose_all(text.removeprefix("\ufeff"), Loader=_LOADER):
            docs.append(convert(node, min(MAX_NODES, left)))
            left -= docs[-1].expanded
            if left < 0:   # the file's cap stopped this document (it says so): the rest
                return docs, []   # of the file is not even composed
    except yaml.YAMLError as exc:
        return docs, [_syntax_issue(exc, data)]
    if not docs:
        return [], [Issue(1, 1, "$", "no YAML document: the file is empty or only comments")]
    return docs, []


def convert(node: Node, cap: int = MAX_NODES) -> Document:
    """Convert a composed document expanding at most `cap` nodes (and what is left of the
    run's cap: RunCapExceeded beyond it); the value is None when the document is unusable.
    """
    walker = _Walker(min(cap, limits.RunBudget.nodes))
    if not isinstance(node, MappingNode):
        what = "empty (null)" if node.tag == _T + "null" else _KIND[type(node)]
        return Document(node, None, [_issue(node, (), f"document is {what}; a campaign "
                                                       "must be a mapping of fields")])
    try:
        value = walker.value(node, (), 0)
    except _Abort as exc:
        return Document(node, None, walker.issues + [_issue(exc.node, (), str(exc))],
                        walker.count)
    finally:
        limits.RunBudget.nodes -= walker.count
    return Document(node, value, walker.issues, walker.count)


class _Walker:
    def __init__(self, limit: int) -> None:
        self.count = 0
        self.limit = limit
        self.issues: list[Issue] = []

    def value(self, node: Node, path: PathT, depth: int) -> Any:
        self.count += 1
        if self.count > self.limit:
            raise self.too_many(node)
        if depth > MAX_DEPTH:
            raise _Abort(node, f"nested deeper than {MAX_DEPTH} levels (a recursive alias?)")
        if node.__class__ is ScalarNode:
            return node.value if node.tag == _STR else self.scalar(node, path)
        if node.__class__ is SequenceNode:
            if node.tag != _SEQ:
                self.issues.append(_issue(node, path, f"unsupported YAML tag {node.tag}"))
            return [self.value(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        return self.mapping(cast(MappingNode, node), path, depth)   # the only kind left

    def too_many(self, node: Node) -> Exception:
        """Why the walk stops: the document's cap, the file's (what is left of it is the
        limit, and `parse` says so), or the run's."""
        if self.limit >= limits.RunBudget.nodes:
            return RunCapExceeded(f"the spec files of this run expand to more than "
                                  f"{limits.MAX_RUN_NODES} YAML nodes in all (alias bombs?); "
                                  "refusing to expand more")
        if self.limit < MAX_NODES:
            return _Abort(node, f"the file expands to more than {limits.MAX_FILE_NODES} "
                                "nodes in all (an alias bomb?); refusing to expand the rest "
                                "of it")
        return _Abort(node, f"document expands to more than {MAX_NODES} nodes "
                            "(an alias bomb?); refusing to expand it")

    def scalar(self, node: ScalarNode, path: PathT) -> Any:
        construct = _SCALARS.get(node.tag)
        if construct is not None:
            try:
                if construct is _NULL and node.value not in _NULLS:
                    raise ValueError(node.value)
                value = construct(node)
                if value.__class__ is int and value.bit_length() > _MAX_INT_BITS:
                    raise ValueError(node.value)   # 0x…, 0b…, 1:59:…: str() would fail
                return value
            except (ValueError, KeyError, TypeError, OverflowError):
                self.issues.append(_issue(node, path, _bad_value(node)))
                return node.value
        # Timestamps stay strings: JSON (and the API) has no date type.
        if node.tag not in (_STR, _T + "timestamp"):
            self.issues.append(_issue(node, path, f"unsupported YAML tag {node.tag}"))
        return node.value

    def mapping(self, node: MappingNode, path: PathT, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, Node] = {}
        merges: list[Node] = []
        if node.tag != _MAP:
            self.issues.append(_issue(node, path, f"unsupported YAML tag {node.tag}"))
        for knode, vnode in node.value:
            if knode.tag == _MERGE:
                merges.append(vnode)
                continue
            if not isinstance(knode, ScalarNode):
                self.issues.append(_issue(knode, path, "a mapping key must be a plain string, "
                                                       f"not {_KIND[type(knode)]}"))
                continue
            key = knode.value
            if key in seen:
                first = seen[key].start_mark.line + 1
                self.issues.append(_issue(knode, path + (key,), f"duplicate key '{key}' (first "
                                          f"at line {first}); YAML would keep only the last"))
            seen[key] = knode
            out[key] = self.value(vnode, path + (key,), depth + 1)
        for merge in merges:
            self.merge(out, merge, path, depth)
        return out

    def merge(self, out: dict[str, Any], node: Node, path: PathT, depth: int) -> None:
        """`<<: *base` or `<<: [*a, *b]`: keys written in the mapping win, then earlier sources."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, MappingNode):
                self.issues.append(_issue(source, path, "'<<' merges only mappings"))
                continue
            for key, value in self.mapping(source, path, depth + 1).items():
                out.setdefault(key, value)


def _child(node: Node, step: str | int, depth: int) -> tuple[Node | None, Node] | None:
    """(key node or None, value node) of one path step, looking through merge keys."""
    if isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return None, node.value[step]
    if not isinstance(node, MappingNode) or depth > MAX_DEPTH:
        return None
    merges = []
    for knode, vnode in reversed(node.value):   # the last duplicate is the one kept
        if knode.tag == _MERGE:
            merges.append(vnode)
        elif isinstance(knode, ScalarNode) and knode.value == step:
            return knode, vnode
    for merge in reversed(merges):
        for source in merge.value if isinstance(merge, SequenceNode) else [merge]:
            found = _child(source, step, depth + 1)
            if found is not None:
                return found
    return None


def _bad_value(node: ScalarNode) -> str:
    """Why an explicitly tagged scalar (`!!int abc`) cannot be read as its tag says."""
    kind = node.tag.removeprefix(_T)
    if kind == "int" and sum(c.isalnum() for c in node.value) > 40:
        return (f"an integer this large (written in {len(node.value)} characters) cannot "
                f"be read (integers are limited to about {sys.get_int_max_str_digits()} "
                "digits)")
    shown = node.value if len(node.value) <= 40 else node.value[:40] + "..."
    return f"{shown!r} is not a valid !!{kind} value"


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _issue(node: Node, path: PathT, message: str) -> Issue:
    line, column = _mark(node)
    return Issue(line, column, format_path(path), message)


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based (line, column in characters) of a byte offset."""
    prefix = data[:offset].decode("utf-8", errors="replace")
    line_start = prefix.rfind("\n") + 1
    return prefix.count("\n") + 1, len(prefix) - line_start + 1


def _char_at(data: bytes, line: int, column: int) -> str:
    lines = data.decode("utf-8", errors="replace").split("\n")
    text = lines[line] if line < len(lines) else ""
    return text[column] if column < len(text) else ""


def _bad_utf8(data: bytes, exc: UnicodeDecodeError) -> Issue:
    line, column = _byte_position(data, exc.start)
    return Issue(line, column, "$", f"byte 0x{data[exc.start]:02x} is not UTF-8; "
                                    "spec files must be UTF-8 text")


def _syntax_issue(exc: yaml.YAMLError, data: bytes) -> Issue:
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        problem = getattr(exc, "problem", None) or "invalid YAML"
        if "tab" in problem:
            problem += " (indent YAML with spaces)"
        elif _char_at(data, mark.line, mark.column) == "\t":
            problem += " (a tab: indent YAML with spaces)"
        return Issue(mark.line + 1, mark.column + 1, "$", f"YAML syntax error: {problem}")
    # A ReaderError (e.g. a control character) has only a byte offset into the UTF-8 text.
    line, column = _byte_position(data, getattr(exc, "position", 0))
    reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
    return Issue(line, column, "$", f"YAML syntax error: {reason}")
