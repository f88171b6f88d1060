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
    seen: dict[int, int] = {}
    try:
        _count(item, seen, set())
        body = _Encoder({key for key, times in seen.items() if times > 1}).encode(item)
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


def _is_dict(kind: type) -> bool:
    """dict, or a dict subclass whose instances are stored as plain dicts (STORE_AS_DICT, e.g. a sent card)."""
    return kind is dict or (issubclass(kind, dict) and getattr(kind, "STORE_AS_DICT", False) is True)


def _children(value: Any) -> Any:
    """What the encoder walks into (dicts, lists, botbuilder objects), else None."""
    kind = type(value)
    if kind is list:
        return value
    if _is_dict(kind):
        return value.values()
    if _trusted(kind) and not isinstance(value, Enum) and _plain(kind) and hasattr(value, "__dict__"):
        return vars(value).values()
    return None


def _count(value: Any, seen: dict[int, int], path: set[int]) -> None:
    children = _children(value)
    if children is None:
        return
    key = id(value)
    if key in path:
        raise _Cycle
    seen[key] = seen.get(key, 0) + 1
    if seen[key] == 1:
        path.add(key)
        for child in children:
            _count(child, seen, path)
        path.discard(key)


class _Encoder:
    """Plain JSON as is; botbuilder objects by class; shared containers defined once and referred to after."""

    def __init__(self, shared: set[int]) -> None:
        self._shared = shared
        self._numbers: dict[int, int] = {}

    def encode(self, value: Any) -> Any:
        kind = type(value)
        if kind is str or kind is int or kind is float or kind is bool or value is None:
            return value
        key = id(value)
        if key not in self._shared:
            return self._encode(value, kind)
        if key in self._numbers:
            return {REFER: self._numbers[key]}
        number = self._numbers[key] = len(self._numbers)
        return {DEFINE: number, "v": self._encode(value, kind)}

    def _encode(self, value: Any, kind: type) -> Any:
        if kind is list:
            return [self.encode(v) for v in value]
        if _is_dict(kind):
            if all(type(k) is str for k in value) and _MARKERS.isdisjoint(value):
                return {k: self.encode(v) for k, v in value.items()}
        elif _trusted(kind):
            if isinstance(value, Enum):
                if type(value.value) in (str, int):
                    return {ENUM: _name(kind), "v": value.value}
            elif _plain(kind) and hasattr(value, "__dict__"):
                return {OBJECT: _name(kind), "d": self._encode(vars(value), dict)}
        return {PICKLED: jsonpickle.encode(value)}  # tuples, sets, non-string keys, other classes: exactly as before


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


_PLAIN: dict[type, bool] = {}


def _plain(kind: type) -> bool:
    """Instances are exactly their __dict__ (what jsonpickle would store for them too)."""
    found = _PLAIN.get(kind)
    if found is None:
        found = _PLAIN[kind] = (
            kind.__reduce_ex__ is object.__reduce_ex__ and kind.__reduce__ is object.__reduce__
            and kind.__getstate__ is object.__getstate__ and not hasattr(kind, "__setstate__")
            and not any("__slots__" in vars(k) for k in kind.__mro__))
    return found


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
