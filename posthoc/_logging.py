"""Keep AIF360's root-logger chatter out of the user's log without silencing anything else."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator


class _Drop(logging.Filter):
    """Drops records whose message contains any of ``texts``."""

    def __init__(self, texts: tuple[str, ...]):
        super().__init__()
        self.texts = texts

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(text in message for text in self.texts)


@contextmanager
def without_root_records(*texts: str) -> Iterator[None]:
    """Inside, drop root-logger records containing any of ``texts``; afterwards, the root
    logger has its filters and handlers back as they were (``logging.warning`` gives it a
    handler when it has none, which AIF360's module-level calls would otherwise leave)."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    dropped = _Drop(texts)
    root.addFilter(dropped)
    try:
        yield
    finally:
        root.removeFilter(dropped)
        root.handlers[:] = handlers
