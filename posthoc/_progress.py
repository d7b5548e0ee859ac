"""Progress bars for the long methods, shown on stderr when the caller asks for them.

:func:`posthoc.debias` with ``progress=True`` (and the ``posthoc`` command line) turns them
on for the duration of one fit; the methods wrap their main loop in :func:`steps`, so no
method's signature carries the choice.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from typing import Iterable, Iterator, TypeVar

from tqdm import tqdm

T = TypeVar("T")
_ENABLED: contextvars.ContextVar[bool] = contextvars.ContextVar("posthoc_progress",
                                                                default=False)


@contextlib.contextmanager
def shown(enabled: bool = True) -> Iterator[None]:
    """Show the methods' progress bars inside the block (or hide them)."""
    token = _ENABLED.set(bool(enabled))
    try:
        yield
    finally:
        _ENABLED.reset(token)


def steps(iterable: Iterable[T], *, desc: str, total: int | None = None) -> Iterable[T]:
    """``iterable``, with a progress bar on stderr when bars are :func:`shown`."""
    if not _ENABLED.get():
        return iterable
    return tqdm(iterable, desc=desc, total=total, file=sys.stderr, leave=False)
