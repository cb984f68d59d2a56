"""One campaign document resolved for one environment (issue 14): shared defaults merged
under it, its environment's overrides over it, variables put in, and every resolved value
traced back to where it was written (the campaign file, a `_defaults.yaml`, an `overrides`
block, or the variable in the config file).

Order, farthest first: each `_defaults.yaml` from the campaigns folder down to the
campaign's own folder, then the campaign; then `overrides.<env>` of each of them in the same
order, so a campaign's own override wins over everything. Mappings merge key by key; lists
and scalars replace. `only: [env, ...]` (the nearest layer that has it wins) says where the
campaign exists. `only` and `overrides` are the tool's own keys: never sent.

Variables: `${var.NAME}` in any string. A plain (unquoted) scalar that is exactly
`${var.NAME}` takes the variable's value with its YAML type; a quoted one, or one inside
longer text, is put in as text. `$${` writes a literal `${`. Each layer is interpolated
before the merge, where its YAML node says whether a scalar was quoted.

Everything here is a pure function of plain data (the Context) and parsed documents.
"""

from __future__ import annotations

import copy
import re
from typing import Any, NamedTuple

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from provisioner.disk.yamlnodes import Document, format_path
from provisioner.spec.record import Context

TOOL_KEYS = ("only", "overrides")
# `$${` (a literal `${`), or `${...}` (it must be `${var.NAME}`)
_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
Path = tuple[Any, ...]


class Finding(NamedTuple):
    """A problem found while resolving: where (file, line, column), JSON path, message."""

    file: str
    line: int
    column: int
    path: str
    message: str


class Layer(NamedTuple):
    shown: str
    doc: Document
    prefix: Path                   # where the layer's value sits in its document
    value: dict[str, Any]
    var_at: dict[Path, str]        # layer path -> the variable put in there
    private: bool                  # its objects are this resolution's own (else copied in)


class Resolved(NamedTuple):
    """A campaign for one environment: `value` (None when it does not exist there or could
    not be resolved), its layers and the origin of each path, for `locate`."""

    value: dict[str, Any] | None
    findings: list[Finding]
    layers: list[Layer]
    origin: dict[Path, int]

    def locate(self, path: Path, key: bool = False) -> tuple[str, int, int, str]:
        """(file, line, column, note) of the value at `path`: the layer that wrote it (the
        deepest written ancestor for a missing value); the note names the variable that
        put it there, if one did."""
        for cut in range(len(path), -1, -1):
            index = self.origin.get(path[:cut])
            if index is not None:
                layer = self.layers[index]
                line, column = layer.doc.locate(layer.prefix + path, key=key)
                return layer.shown, line, column, _var_note(layer, path)
        layer = self.layers[-1]
        return layer.shown, layer.doc.line, layer.doc.column, ""


Lines = frozenset[int] | None   # 0-based lines of a file that hold `${`; None: all of them
ALL: Lines = None


def references(data: bytes) -> Lines:
    """The lines of `data` that hold `${` (empty when none does)."""
    if b"${" not in data:
        return frozenset()
    found, start = set(), data.find(b"${")
    while start >= 0:
        found.add(data.count(b"\n", 0, start))
        start = data.find(b"${", start + 2)
    return frozenset(found)


def resolve(doc: Document, shown: str, defaults: list[tuple[str, Document, Lines]],
            context: Context, refs: Lines = ALL) -> Resolved:
    """`doc` (a campaign mapping in file `shown`) for `context.env`. `defaults` are (shown,
    document, the lines holding `${`); `refs` are the campaign file's: only the nodes that
    span such a line are walked for references (the walk was a sixth of resolving)."""
    findings: list[Finding] = []
    own = "overrides" not in doc.value   # with overrides, they merge into its objects
    bases = [(name, d, d.value, has, False) for name, d, has in defaults]
    bases.append((shown, doc, doc.value, refs, own))
    layers = [_layer(name, d, (), value, context, findings, has, private)
              for name, d, value, has, private in bases]
    for name, d, value, has, private in bases:
        override = _override(name, d, value, context, findings, has, private)
        if override is not None:
            layers.append(override)
    only = _only([(name, d, value) for name, d, value, _, _ in bases], context, findings)
    if findings or (only is not None and context.env not in only):
        return Resolved(None, findings, layers, {})
    merged: dict[str, Any] = {}
    origin: dict[Path, int] = {}
    for index, layer in enumerate(layers):
        _merge(merged, layer.value, index, (), origin, layer.private)
    return Resolved(merged, findings, layers, origin)


def _layer(shown: str, doc: Document, prefix: Path, value: dict[str, Any], context: Context,
           findings: list[Finding], refs: Lines, private: bool) -> Layer:
    body = {k: v for k, v in value.items() if k not in TOOL_KEYS} if not prefix else value
    var_at: dict[Path, str] = {}
    if refs is not None and not refs:
        return Layer(shown, doc, prefix, body, var_at, private)
    where = _Where(shown, doc, prefix, context, findings, var_at, refs)
    if not private:   # a defaults file's objects are shared by every campaign below it
        body = copy.deepcopy(body)
    return Layer(shown, doc, prefix, where.interpolate(body, _node_at(doc.node, prefix), ()),
                 var_at, True)


def _override(shown: str, doc: Document, value: dict[str, Any], context: Context,
              findings: list[Finding], refs: Lines, private: bool) -> Layer | None:
    overrides = value.get("overrides")
    if overrides is None:
        return None
    if not isinstance(overrides, dict):
        findings.append(_at(shown, doc, ("overrides",), "overrides must map environment "
                                                        "names to partial campaigns"))
        return None
    for env, part in overrides.items():
        if env not in context.envs:
            findings.append(_at(shown, doc, ("overrides", env), _unknown_env(env, context),
                                key=True))
        elif not isinstance(part, dict):
            findings.append(_at(shown, doc, ("overrides", env), f"overrides.{env} must be a "
                                                                "mapping of campaign fields"))
        elif any(key in part for key in TOOL_KEYS):
            bad = next(key for key in TOOL_KEYS if key in part)
            findings.append(_at(shown, doc, ("overrides", env, bad), f"{bad!r} cannot be "
                                "overridden per environment", key=True))
    part = overrides.get(context.env)
    if not isinstance(part, dict) or findings:
        return None
    return _layer(shown, doc, ("overrides", context.env), part, context, findings, refs,
                  private)


def _only(bases: list[tuple[str, Document, dict[str, Any]]], context: Context,
          findings: list[Finding]) -> list[str] | None:
    """The nearest `only` (every one checked); None when none says where."""
    nearest = None
    for shown, doc, value in bases:
        only = value.get("only")
        if only is None:
            continue
        if not isinstance(only, list) or not all(isinstance(e, str) for e in only):
            findings.append(_at(shown, doc, ("only",), "only must be a list of environment "
                                                       "names"))
            continue
        for index, env in enumerate(only):
            if env not in context.envs:
                findings.append(_at(shown, doc, ("only", index), _unknown_env(env, context)))
        nearest = only
    return nearest


def _unknown_env(env: Any, context: Context) -> str:
    known = ", ".join(context.envs) or "none: the config names no environment"
    return f"{str(env)[:80]!r} is not an environment of the config (known: {known})"


def _merge(into: dict[str, Any], value: dict[str, Any], index: int, path: Path,
           origin: dict[Path, int], private: bool) -> None:
    """Merge `value` into `into`; `origin` records where each layer put a value (what lies
    below it came from the same layer unless a deeper entry says otherwise)."""
    for key, item in value.items():
        here = path + (key,)
        origin[here] = index
        if isinstance(item, dict) and isinstance(into.get(key), dict):
            _merge(into[key], item, index, here, origin, private)
        else:
            into[key] = item if private else copy.deepcopy(item)


class _Where:
    """Interpolation of one layer, reporting into `findings` at the layer's places."""

    def __init__(self, shown: str, doc: Document, prefix: Path, context: Context,
                 findings: list[Finding], var_at: dict[Path, str], lines: Lines) -> None:
        self.shown, self.doc, self.prefix = shown, doc, prefix
        self.context, self.findings, self.var_at = context, findings, var_at
        self.lines = lines

    def _skip(self, node: Node | None) -> bool:
        """Whether `node` spans no line holding `${` (None: not known, so walked)."""
        if node is None or self.lines is None:
            return False
        first, last = node.start_mark.line, node.end_mark.line
        for line in self.lines:   # a few lines at most: a plain loop beats any() here
            if first <= line <= last:
                return False
        return True

    def interpolate(self, value: Any, node: Node | None, path: Path) -> Any:
        """`value` with its references put in: a string is replaced, a mapping or list
        changed in place (the caller hands in objects of its own) and returned."""
        if isinstance(value, str):
            return self._text(value, node, path) if "${" in value else value
        if self._skip(node):
            return value
        if isinstance(value, dict) and isinstance(node, MappingNode) and self.lines is not None \
                and not any(k.value == "<<" for k, _ in node.value):
            for knode, vnode in node.value:   # only the entries that span a `${` line
                key = knode.value
                if key in value and not self._skip(vnode):
                    new = self.interpolate(value[key], vnode, path + (key,))
                    if new is not value[key]:
                        value[key] = new
        elif isinstance(value, dict):
            children = _mapping_children(node) if node is not None else {}
            for key, item in value.items():
                if isinstance(item, (str, dict, list)):
                    new = self.interpolate(item, children.get(key), path + (key,))
                    if new is not item:
                        value[key] = new
        elif isinstance(value, list):
            nodes = node.value if isinstance(node, SequenceNode) else []
            for index, item in enumerate(value):
                if isinstance(item, (str, dict, list)):
                    new = self.interpolate(item, nodes[index] if index < len(nodes) else None,
                                           path + (index,))
                    if new is not item:
                        value[index] = new
        return value

    def _text(self, text: str, node: Node | None, path: Path) -> Any:
        plain = isinstance(node, ScalarNode) and not node.style   # None, or "" from the C composer
        whole = _REFERENCE.fullmatch(text)
        if plain and whole and whole.group(0) != "$${":
            return self._value(whole, path, typed=True)
        return _REFERENCE.sub(lambda m: "${" if m.group(0) == "$${"
                              else str(self._value(m, path, typed=False)), text)

    def _value(self, match: re.Match[str], path: Path, *, typed: bool) -> Any:
        reference, vars_ = match.group(1), self.context.vars
        if not match.group(0).endswith("}") or not reference.startswith("var."):
            self._find(path, f"{match.group(0)[:60]!r} is not a variable reference: write "
                             "${var.NAME}, or $${ for a literal ${")
            return "" if not typed else None
        name = reference[4:]
        if not _NAME.match(name) or name not in vars_:
            known = ", ".join(sorted(vars_)) or "none"
            self._find(path, f"undefined variable ${{var.{name[:60]}}} in environment "
                             f"{self.context.env!r} (defined: {known})")
            return "" if not typed else None
        self.var_at[path] = name
        value = vars_[name]
        if typed:
            return copy.deepcopy(value)
        if isinstance(value, (dict, list)) or value is None:
            self._find(path, f"variable {name} is a {_kind(value)}: only a plain (unquoted) "
                             f"value that is exactly ${{var.{name}}} can take it")
            return ""
        return _scalar_text(value)

    def _find(self, path: Path, message: str) -> None:
        self.findings.append(_at(self.shown, self.doc, self.prefix + path, message))


def _at(shown: str, doc: Document, path: Path, message: str, key: bool = False) -> Finding:
    line, column = doc.locate(path, key=key)
    return Finding(shown, line, column, format_path(path), message)


def _var_note(layer: Layer, path: Path) -> str:
    """The variable that put the value at `path` (a path of the merged value, which is the
    layer's own path too), or ""."""
    for cut in range(len(path), -1, -1):
        name = layer.var_at.get(path[:cut])
        if name is not None:
            return name
    return ""


def _node_at(node: Node, path: Path) -> Node | None:
    for step in path:
        if not isinstance(node, MappingNode):
            return None
        found = _mapping_children(node).get(step)
        if found is None:
            return None
        node = found
    return node


def _mapping_children(node: Node | None) -> dict[Any, Node]:
    if not isinstance(node, MappingNode):
        return {}
    return {k.value: v for k, v in node.value if isinstance(k, ScalarNode)}


def _kind(value: Any) -> str:
    return {dict: "mapping", list: "list", type(None): "null"}.get(type(value), "value")


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
