"""Typed configs: YAML files validated against dataclass schemas, with ``--set`` overrides.

Defaults live in the dataclasses; a YAML file states only what it changes and may inherit
another file with ``_base_: other.yaml``. Mappings merge key by key into the base; a mapping that
carries ``_replace_: true``, or an empty mapping ``{}``, replaces the base's mapping instead (so a
child can clear ``lr_multipliers: {}``); lists and scalars always replace. Unknown keys, wrong types and out-of-range values
raise :class:`ConfigError` naming the file (or the ``--set`` override), the key and what was
expected. Range limits are declared on a field: ``field(default=1, metadata={"min": 0})``.
"""
from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

from ltr.admin.atomic import atomic_write_text

T = TypeVar("T")
BASE_KEY = "_base_"
REPLACE_KEY = "_replace_"


class ConfigError(ValueError):
    """A config file or override that does not match its schema."""


class _DuplicateKey(yaml.MarkedYAMLError):
    """A mapping that states the same key twice (YAML would silently keep the last value)."""


class _TooLarge(yaml.MarkedYAMLError):
    """A document whose anchors and aliases expand to more values than any config has."""


MAX_EXPANDED_VALUES = 100_000
"""Most values a config may expand to through aliases (a "billion laughs" file expands to 10⁹)."""


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many values ``node`` stands for once every alias is expanded (memoised by node, so linear)."""
    if id(node) not in sizes:
        sizes[id(node)] = 1  # a recursive alias counts once here instead of looping
        children = node.value if isinstance(node, yaml.SequenceNode) else (
            [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else [])
        sizes[id(node)] = min(1 + sum(_expanded_size(c, sizes) for c in children), MAX_EXPANDED_VALUES + 1)
    return sizes[id(node)]


class ConfigLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with three fixes for config files and ``--set`` values:

    * numbers in exponent form without a dot (``1e-4``, ``5E3``) are floats, as in YAML 1.2 and
      Python; YAML 1.1 reads them as strings, which made README's ``--set train.lr=1e-4`` fail;
    * a key stated twice in one mapping is an error naming the line, not "the last one wins";
    * a document whose aliases expand to more than ``MAX_EXPANDED_VALUES`` values is refused
      before it is built (every later walk over the config would take hours and all memory).
    """

    def construct_document(self, node: yaml.Node) -> Any:
        if _expanded_size(node, {}) > MAX_EXPANDED_VALUES:
            raise _TooLarge(None, None, f"expands to more than {MAX_EXPANDED_VALUES} values through anchors and "
                            "aliases", node.start_mark)
        return super().construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, (str, int, float, bool)) or key is None:
                    if key in seen:
                        raise _DuplicateKey(None, None, f"duplicate key '{key}' (first on line {seen[key] + 1})",
                                            key_node.start_mark)
                    seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def parse_yaml(text: str, source: str) -> Any:
    """``text`` parsed with :class:`ConfigLoader`; errors name ``source`` and the line."""
    try:
        return yaml.load(text, Loader=ConfigLoader)  # noqa: S506 - a SafeLoader subclass
    except (_DuplicateKey, _TooLarge) as err:
        raise ConfigError(f"{source}:{err.problem_mark.line + 1}: {err.problem}") from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to be a config") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}{line}: not valid YAML: {err}") from None


def load_yaml(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Safe-load a YAML mapping (an empty file is an empty mapping), resolving ``_base_`` chains
    (a chain that comes back to a file already in it is an error listing the chain)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found"
                          + (f" (the '{BASE_KEY}' of {_chain[-1]})" if _chain else ""))
    resolved = path.resolve()
    if resolved in _chain:
        cycle = " -> ".join(str(p) for p in (*_chain[_chain.index(resolved):], resolved))
        raise ConfigError(f"{path}: '{BASE_KEY}' chain loops: {cycle}; remove one of the '{BASE_KEY}' lines")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    data = parse_yaml(text, str(path))
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    base = data.pop(BASE_KEY, None)
    if base is None:
        return strip_replace_markers(data)
    if not isinstance(base, str):
        raise ConfigError(f"{path}: '{BASE_KEY}' must be a file name, got {base!r}")
    return merge_dicts(load_yaml(path.parent / base, (*_chain, resolved)), data)


def merge_dicts(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Recursive merge: mappings merge key by key; an empty mapping or one marked
    ``_replace_: true`` replaces the base's mapping; anything else in ``update`` replaces."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict):
            replace = value.get(REPLACE_KEY, False)
            if not isinstance(replace, bool):
                raise ConfigError(f"key '{key}': '{REPLACE_KEY}' must be true or false, got {replace!r}")
            value = {k: v for k, v in value.items() if k != REPLACE_KEY}
            if isinstance(out.get(key), dict) and value and not replace:
                out[key] = merge_dicts(out[key], value)
                continue
        out[key] = strip_replace_markers(value)
    return out


def strip_replace_markers(value: Any) -> Any:
    """``value`` with every ``_replace_`` marker removed at any depth (markers only steer merging)."""
    if isinstance(value, dict):
        return {k: strip_replace_markers(v) for k, v in value.items() if k != REPLACE_KEY}
    if isinstance(value, list):
        return [strip_replace_markers(v) for v in value]
    return value


def parse_overrides(overrides: Iterable[str]) -> dict[str, Any]:
    """Turn ``["train.lr=1e-4", "model.backbone=resnet50"]`` into a nested mapping."""
    nested: dict[str, Any] = {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item}: expected KEY=VALUE, e.g. train.lr=1e-4")
        key, raw = item.split("=", 1)
        parts = key.strip().split(".")
        if not all(parts):
            raise ConfigError(f"--set {item}: malformed key '{key}'")
        try:
            value = parse_yaml(raw, f"--set {item}") if raw.strip() else ""
        except ConfigError as err:
            raise ConfigError(f"--set {item}: value is not valid YAML ({err})") from None
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item}: '{part}' is set both as a value and a section")
        node[parts[-1]] = value
    return nested


def flat_keys(data: dict[str, Any], prefix: str = "") -> set[str]:
    """Dotted paths of every key in a nested mapping (to tell which values came from --set)."""
    keys = set()
    for key, value in data.items():
        full = f"{prefix}{key}"
        keys.add(full)
        if isinstance(value, dict):
            keys |= flat_keys(value, full + ".")
    return keys


def load_config(path: str | Path | None, schema: type[T], overrides: Iterable[str] = ()) -> T:
    """Load ``path`` (or only defaults when None), apply overrides and validate against ``schema``."""
    data = load_yaml(path) if path is not None else {}
    override_data = parse_overrides(overrides)
    data = merge_dicts(data, override_data)
    return from_dict(schema, data, key_origin(override_data, str(path) if path is not None else "<defaults>"))


def key_origin(override_data: dict[str, Any], source: str) -> Callable[[str], str]:
    """Where a dotted key's value came from, for error messages: ``--set`` when the overrides state it,
    else ``source``; a mapping's key (``a.b.<key>``) comes from where the mapping ``a.b`` does, and
    anything inside a list (``a.b[0].c``) from where the list does (lists are replaced, not merged)."""
    override_keys = flat_keys(override_data)

    def origin(key: str) -> str:
        return "--set" if key.split("[", 1)[0].removesuffix(".<key>") in override_keys else source

    return origin


def from_dict(schema: type[T], data: Any, origin: Any = "<dict>", prefix: str = "") -> T:
    """Build a ``schema`` dataclass from plain data, checking keys, types and ranges."""
    where = origin if callable(origin) else (lambda key, _o=origin: _o)
    if not isinstance(data, dict):
        raise ConfigError(f"{where(prefix.rstrip('.'))}: '{prefix.rstrip('.') or '<root>'}' must be a "
                          f"mapping of {schema.__name__} fields, got {type(data).__name__}")
    hints = get_type_hints(schema)
    fields = {f.name: f for f in dataclasses.fields(schema) if f.init}
    unknown = sorted((k for k in data if k not in fields), key=str)
    if unknown:
        key = prefix + str(unknown[0])
        raise ConfigError(
            f"{where(key)}: unknown key '{key}' (allowed in '{prefix.rstrip('.') or '<root>'}': "
            f"{', '.join(sorted(fields))})"
        )
    kwargs = {}
    for name, value in data.items():
        key = prefix + name
        kwargs[name] = _convert(hints[name], value, key, where)
        _check_range(fields[name], kwargs[name], key, where)
    try:
        return schema(**kwargs)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where(prefix.rstrip('.'))}: invalid '{prefix.rstrip('.') or '<root>'}': {err}") from None


def _type_name(tp: Any) -> str:
    if dataclasses.is_dataclass(tp):
        return f"mapping ({tp.__name__})"
    if get_origin(tp) is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _convert(tp: Any, value: Any, key: str, where: Any) -> Any:
    def fail() -> ConfigError:
        return ConfigError(f"{where(key)}: key '{key}': expected {_type_name(tp)}, got {value!r}")

    if tp is Any:
        return value
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, value, key, where)
            except ConfigError as err:
                errors.append(err)
        if len(errors) == 1:  # Optional[X]: X's own message ("a finite number"), not "expected Optional"
            raise errors[0]
        raise fail()
    if origin is Literal:
        if value in get_args(tp):
            return value
        raise fail()
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where, key + ".")
    if origin in (list, tuple, typing.Sequence) or tp in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise fail()
        args = get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(f"{where(key)}: key '{key}': expected {len(args)} values, got {len(value)}")
            return tuple(_convert(a, v, f"{key}[{i}]", where) for i, (a, v) in enumerate(zip(args, value)))
        item = args[0] if args else Any
        items = [_convert(item, v, f"{key}[{i}]", where) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise fail()
        args = get_args(tp) or (str, Any)
        return {_convert(args[0], k, f"{key}.<key>", where): _convert(args[1], v, f"{key}.{k}", where)
                for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise fail()
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise fail()
    if tp is float:
        if isinstance(value, str):  # a numeric string (e.g. from YAML 1.1 or a JSON dump) is accepted
            try:
                value = float(value.replace("_", "")) if re.fullmatch(r"\s*[-+]?[0-9._]+([eE][-+]?[0-9]+)?\s*", value) else value
            except ValueError:
                pass
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ConfigError(f"{where(key)}: key '{key}': expected a finite number, got {value!r}")
            return float(value)
        raise fail()
    if tp is str:
        if isinstance(value, str):
            return value
        raise fail()
    raise ConfigError(f"{where(key)}: key '{key}': unsupported schema type {tp!r}")


def _check_range(field: dataclasses.Field, value: Any, key: str, where: Any) -> None:
    lo, hi = field.metadata.get("min"), field.metadata.get("max")
    if value is None or (lo is None and hi is None):
        return
    values = value if isinstance(value, (list, tuple)) else [value]
    for v in values:
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            bounds = f"[{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
            raise ConfigError(f"{where(key)}: key '{key}': value {v!r} out of range {bounds}")


def to_dict(config: Any) -> dict[str, Any]:
    """Plain nested dict of a config (tuples become lists), safe for YAML and checkpoints."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(config)


def save_config(config: Any, path: str | Path) -> Path:
    """Write the resolved config as YAML, atomically."""
    path = Path(path)
    atomic_write_text(path, yaml.safe_dump(to_dict(config), sort_keys=False))
    return path
