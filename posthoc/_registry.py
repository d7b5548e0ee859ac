"""A named registry: the one place where the entries of one kind (methods, measures) live.

A registry is a read-only mapping from name to entry, in registration order. Its error
messages are built from its own contents, so an entry cannot be added without appearing in
them.
"""

from __future__ import annotations

from typing import Any, Generic, Iterator, Mapping, TypeVar

Entry = TypeVar("Entry")

UNKNOWN = "Unknown {kind} {value!r}; valid values are: {valid}."


class Registry(Mapping[str, Entry], Generic[Entry]):
    """Entries of one ``kind`` by name; each entry has a ``name`` attribute.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> colours = Registry("colour")
    >>> _ = colours.register(SimpleNamespace(name="red"))
    >>> list(colours), "red" in colours
    (['red'], True)
    >>> colours.check("blue")
    Traceback (most recent call last):
    ...
    ValueError: Unknown colour 'blue'; valid values are: red.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, entry: Entry, *, replace: bool = False) -> Entry:
        """Add ``entry`` under ``entry.name``; refuse a name already taken unless ``replace``."""
        name = getattr(entry, "name", None)
        if not isinstance(name, str) or not name:
            raise ValueError(f"A {self.kind} needs a non-empty string name; got {name!r}.")
        if name in self._entries and not replace:
            raise ValueError(f"A {self.kind} named {name!r} is already registered; pass "
                             "replace=True to replace it.")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> Entry:
        """Remove and return the entry ``name``."""
        entry = self.check(name)
        del self._entries[name]
        return entry

    def check(self, value: Any) -> Entry:
        """The entry named ``value``, or a ValueError that lists the valid names."""
        if not isinstance(value, str) or value not in self._entries:
            raise ValueError(UNKNOWN.format(kind=self.kind, value=value,
                                            valid=", ".join(self._entries)))
        return self._entries[value]

    def __getitem__(self, name: str) -> Entry:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._entries)})"


__all__ = ["Registry"]
