"""Read YAML: the data, the line of every value, and the keys given twice.

One libyaml parse (``yaml.CSafeLoader``) composes the node tree; one walk of it makes the
data and finds the keys given twice. Lines are looked up in a tree composed again only
when a problem is reported, so a valid file is parsed once and its tree is freed as soon
as the data is made. The garbage collector is paused meanwhile: a large file makes
millions of objects and nothing cyclic, and each collection would walk them all again
(without the pause, most of the time of a large parse).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from privy.simulator.scenario import Loc

M = TypeVar("M", bound=BaseModel)

_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed
_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside (reference counting still frees what is dropped)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class YamlSyntaxError(ValueError):
    """The text is not YAML (or not one document of it); ``line`` is 1-based."""

    def __init__(self, line: int, reason: str) -> None:
        self.line, self.reason = line, reason
        super().__init__(f"line {line}: {reason}")


@dataclass(frozen=True)
class DuplicateKey:
    """A key given twice in one mapping: the data keeps the value given at ``line``."""

    loc: Loc  # the key's path, the key last
    line: int
    first: int  # the line of its first appearance

    @property
    def message(self) -> str:
        return f"duplicate key (first at line {self.first})"


@dataclass
class Lines:
    """The line of any path in a YAML text, found in its node tree (composed on first use)."""

    text: str
    _root: Node | None = None
    _composed: bool = False

    def __call__(self, loc: Loc) -> int:
        if not self._composed:
            self._root, self._composed = _compose(self.text), True
        return line_of(self._root, loc)


@dataclass
class YamlDoc:
    """Parsed YAML: its data, its duplicate keys, and ``line_of(path)``."""

    data: Any
    duplicates: list[DuplicateKey]
    line_of: Lines = field(repr=False)


def line_of(node: Node | None, loc: Loc) -> int:
    """1-based line of the deepest node along ``loc`` that exists.

    A mapping entry is located by its key (``task:``), not its value: a block value
    starts on the next line, and a missing field should point at its parent's key. Of a
    key given twice, the last is the one whose value the data holds.
    """
    best = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, MappingNode):
            pair = next(((k, v) for k, v in reversed(node.value) if k.value == part), None)
            if pair is None:
                break
            best, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            best = node.start_mark.line + 1
        else:
            break
    return best


def _syntax_error(err: yaml.YAMLError) -> YamlSyntaxError:
    mark = getattr(err, "problem_mark", None)
    # pyyaml splits some messages: "expected a single document" + "but found another".
    parts = (getattr(err, "context", None), getattr(err, "problem", None))
    return YamlSyntaxError(mark.line + 1 if mark is not None else 1, ", ".join(p for p in parts if p) or str(err))


_REWORD_BELOW = 1_000_000  # characters: a larger file keeps libyaml's words (the pure parser takes ~4 s per MB)


def _reported(err: yaml.YAMLError, text: str) -> YamlSyntaxError:
    """The error as the pure-Python parser words it (libyaml's messages say less), if it finds one."""
    if _LOADER is not yaml.SafeLoader and len(text) < _REWORD_BELOW:
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as pure:
            return _syntax_error(pure)
    return _syntax_error(err)


def _compose(text: str) -> Node | None:
    loader = _LOADER(text)
    try:
        with paused_gc():
            return loader.get_single_node()
    finally:
        loader.dispose()


def parse_yaml(text: str) -> YamlDoc:
    """``text`` parsed once; raise :class:`YamlSyntaxError` if it is not one YAML document."""
    loader = _LOADER(text)
    try:
        with paused_gc():
            root = loader.get_single_node()
            builder = _Builder(loader)
            data = builder.build(root) if root is not None else None
            # the tree goes before the collector comes back (the constructor keeps what it made by node)
            loader.constructed_objects, loader.recursive_objects = {}, {}
            del root
    except yaml.YAMLError as err:
        raise _reported(err, text) from err
    finally:
        loader.dispose()
    return YamlDoc(data, builder.duplicates, Lines(text))


class _Builder:
    """The data of a node tree, as ``yaml.safe_load`` makes it, without recursion; and the keys given twice.

    Plain maps, sequences and strings (nearly all of a scenario) are made here; any other
    node (a number, a merge key, a set, an unknown tag, an unhashable key) is left to the
    loader's own constructor, which also raises its errors.
    """

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.made: dict[int, Any] = {}
        self.duplicates: list[DuplicateKey] = []

    def build(self, root: Node) -> Any:
        top, more = self._make(root, ())
        todo: list[tuple[Node, Any, Loc]] = [(root, top, ())] if more else []
        while todo:
            node, obj, loc = todo.pop()
            if isinstance(obj, dict):
                for kn, vn in node.value:
                    key = kn.value if kn.tag == _STR else self.loader.construct_object(kn, deep=True)
                    value, more = self._make(vn, loc)
                    if more:
                        todo.append((vn, value, (*loc, key)))
                    obj[key] = value
                if len(obj) < len(node.value):
                    self._note_duplicates(node, loc)
            else:
                for i, vn in enumerate(node.value):
                    value, more = self._make(vn, loc)
                    if more:
                        todo.append((vn, value, (*loc, i)))
                    obj.append(value)
        self.duplicates.sort(key=lambda d: d.line)
        return top

    def _note_duplicates(self, node: Node, loc: Loc) -> None:
        first: dict[Any, int] = {}
        for kn, _ in node.value:
            key = kn.value if kn.tag == _STR else self.loader.construct_object(kn, deep=True)
            line = kn.start_mark.line + 1
            if key in first:
                self.duplicates.append(DuplicateKey((*loc, key), line, first[key]))
            else:
                first[key] = line

    def _make(self, node: Node, loc: Loc) -> tuple[Any, bool]:
        """The object for ``node``, and whether its children are still to be added."""
        if isinstance(node, ScalarNode):
            if node.tag == _STR:
                return node.value, False
            return self.loader.construct_object(node, deep=True), False
        made = self.made.get(id(node))
        if made is not None:  # an alias of a node made already: the same object, as safe_load gives
            return made, False
        obj: Any
        more = True
        if (isinstance(node, MappingNode) and node.tag == _MAP
                and all(isinstance(k, ScalarNode) and k.tag != _MERGE for k, _ in node.value)):
            obj = {}
        elif isinstance(node, SequenceNode) and node.tag == _SEQ:
            obj = []
        else:
            obj, more = self.loader.construct_object(node, deep=True), False
        self.made[id(node)] = obj
        return obj, more
