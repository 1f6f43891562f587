"""Name -> constructor registries filled by decorators (datasets, networks, trackers, ...).

Each registry knows the modules that register into it, so looking a name up imports
them first; no module path is ever built from a string a user typed.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, Iterable, TypeVar

T = TypeVar("T")


class Registry:
    """A named mapping from short names to constructors, filled with ``@registry.register``."""

    def __init__(self, kind: str, modules: Iterable[str] = ()) -> None:
        self.kind = kind
        self._modules = list(modules)
        self._entries: dict[str, Callable[..., Any]] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers a constructor under ``name``."""

        def decorator(obj: T) -> T:
            if name in self._entries and self._entries[name] is not obj:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            self._entries[name] = obj  # type: ignore[assignment]
            return obj

        return decorator

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module in self._modules:
                importlib.import_module(module)

    def get(self, name: str) -> Callable[..., Any]:
        """The constructor registered as ``name``; a clear error lists the known names."""
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(self.names()) or "(none)"
            raise KeyError(f"unknown {self.kind} '{name}'; known {self.kind}s: {known}") from None

    def build(self, name: str, /, **kwargs: Any) -> Any:
        """Call the constructor registered as ``name`` with keyword arguments."""
        return self.get(name)(**kwargs)

    def names(self) -> list[str]:
        """Sorted registered names."""
        self._load()
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._entries
