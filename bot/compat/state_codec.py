"""A cheap JSON codec for botbuilder state: plain JSON as is, botbuilder objects by class, anything else jsonpickled."""

from __future__ import annotations

import importlib
import json
from enum import Enum
from functools import cache
from typing import Any

import jsonpickle

VERSION = "$codec"  # the top-level key of this format; rows without it are whole jsonpickle documents
OBJECT, ENUM, PICKLED, DEFINE, REFER = "$obj", "$enum", "$jp", "$def", "$ref"
_MARKERS = frozenset({VERSION, OBJECT, ENUM, PICKLED, DEFINE, REFER})
# Classes restored by name: botbuilder's own (DialogState, DialogInstance, PromptOptions, Activity ...).
_TRUSTED = ("botbuilder.", "botframework.")


class _Cycle(Exception):
    """The item refers to itself: left to jsonpickle whole."""


def encode(item: Any) -> str:
    """One stored item as JSON text; a dict, list or object held in two places is stored once, like jsonpickle does."""
    holder: list[Any] = [None]
    try:
        _Encoder().put(item, holder, 0)
        body = holder[0]
    except _Cycle:
        body = {PICKLED: jsonpickle.encode(item)}
    return json.dumps({VERSION: 1, "item": body}, ensure_ascii=True, separators=(",", ":"))


def decode(data: str) -> Any:
    """The item `encode` stored (or an older row's jsonpickle document)."""
    defined: dict[int, Any] = {}
    document = json.loads(data, object_hook=lambda found: _restore(found, defined))
    if isinstance(document, dict) and document.get(VERSION) == 1:
        return document["item"]
    return jsonpickle.decode(data)


_LEAF, _LIST, _DICT, _OBJECT = range(4)
_SHAPES: dict[type, int] = {}


def _shape(kind: type) -> int:
    """How instances of `kind` are stored, decided once per class: walked into as a list, a dict (a dict
    subclass too if it says STORE_AS_DICT, e.g. a sent card) or a botbuilder object, or else a leaf."""
    found = _SHAPES.get(kind)
    if found is None:
        if kind is list:
            found = _LIST
        elif kind is dict or (issubclass(kind, dict) and getattr(kind, "STORE_AS_DICT", False) is True):
            found = _DICT
        elif _trusted(kind) and not issubclass(kind, Enum) and _plain(kind):
            found = _OBJECT
        else:
            found = _LEAF
        _SHAPES[kind] = found
    return found


def _children(value: Any) -> Any:
    """What the encoder walks into, else None."""
    shape = _shape(type(value))
    if shape == _LIST:
        return value
    if shape == _DICT:
        return value.values()
    return vars(value).values() if shape == _OBJECT else None


def _refuse_loops(value: Any, path: set[int], done: set[int]) -> None:
    """Raises _Cycle when `value` holds anything on `path` (or itself)."""
    children = _children(value)
    if children is None:
        return
    key = id(value)
    if key in path:
        raise _Cycle
    if key not in done:
        done.add(key)
        path.add(key)
        for child in children:
            _refuse_loops(child, path, done)
        path.discard(key)


class _Encoder:
    """One walk: plain JSON as is; botbuilder objects by class. A container met a second time is a reference
    to the first, whose output is then wrapped as its definition (it comes first in the document)."""

    def __init__(self) -> None:
        self._first: dict[int, tuple[Any, Any]] = {}  # id -> (output container, slot) of its first encoding
        self._numbers: dict[int, int] = {}
        self._path: set[int] = set()

    def put(self, value: Any, out: Any, slot: Any) -> None:
        """Encode `value` into out[slot]."""
        kind = type(value)
        if kind is str or kind is int or kind is float or kind is bool or value is None:
            out[slot] = value
            return
        shape = _shape(kind)
        if shape == _LEAF:
            out[slot] = _leaf(value, kind)
            return
        key = id(value)
        if key in self._path:
            raise _Cycle
        first = self._first.get(key)
        if first is None:
            self._first[key] = (out, slot)
            self._path.add(key)
            out[slot] = self._container(value, kind, shape)
            self._path.discard(key)
            return
        number = self._numbers.get(key)
        if number is None:
            number = self._numbers[key] = len(self._numbers)
            where, at = first
            where[at] = {DEFINE: number, "v": where[at]}
        out[slot] = {REFER: number}

    def _container(self, value: Any, kind: type, shape: int) -> Any:
        if shape == _LIST:
            out: list[Any] = [None] * len(value)
            for index, item in enumerate(value):
                self.put(item, out, index)
            return out
        if shape == _DICT:
            return self._dict(value)
        return {OBJECT: _name(kind), "d": self._dict(vars(value))}

    def _dict(self, value: dict[Any, Any]) -> Any:
        if all(type(k) is str for k in value) and _MARKERS.isdisjoint(value):
            out: dict[str, Any] = {}
            for key, item in value.items():
                self.put(item, out, key)
            return out
        done: set[int] = set()
        for item in value.values():  # tuples, sets, non-string keys: jsonpickled, unless it loops back
            _refuse_loops(item, self._path, done)
        return {PICKLED: jsonpickle.encode(value)}


def _leaf(value: Any, kind: type) -> Any:
    """Anything the encoder does not walk into: an enum of botbuilder's by value, else jsonpickled."""
    if _trusted(kind) and isinstance(value, Enum) and type(value.value) in (str, int):
        return {ENUM: _name(kind), "v": value.value}
    return {PICKLED: jsonpickle.encode(value)}


def _restore(found: dict[str, Any], defined: dict[int, Any]) -> Any:
    if len(found) > 2 or _MARKERS.isdisjoint(found):
        return found
    if DEFINE in found:
        defined[found[DEFINE]] = found["v"]
        return found["v"]
    if REFER in found:
        return defined[found[REFER]]
    if PICKLED in found:
        return jsonpickle.decode(found[PICKLED])
    if OBJECT in found:
        kind = _class(found[OBJECT])
        obj = kind.__new__(kind)
        obj.__dict__.update(found["d"])
        return obj
    if ENUM in found:
        return _class(found[ENUM])(found["v"])
    return found


def _trusted(kind: type) -> bool:
    return kind.__module__.startswith(_TRUSTED)


def _plain(kind: type) -> bool:
    """Instances are exactly their __dict__ (what jsonpickle would store for them too)."""
    return (kind.__reduce_ex__ is object.__reduce_ex__ and kind.__reduce__ is object.__reduce__
            and kind.__getstate__ is object.__getstate__ and not hasattr(kind, "__setstate__")
            and not any("__slots__" in vars(k) for k in kind.__mro__))


def _name(kind: type) -> str:
    return f"{kind.__module__}:{kind.__qualname__}"


@cache
def _class(name: str) -> Any:
    module, _, qualname = name.partition(":")
    if not module.startswith(_TRUSTED):
        raise ValueError(f"untrusted class in stored state: {name}")
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found
