"""Trained networks on disk: one safetensors file per network, its training log in the
header, read without running any code.

A file is accepted only if its name is a cache key (24 hex digits) with the
``.safetensors`` suffix, it is at most :data:`MAX_NETWORK_BYTES` long, and its header names
:data:`NETWORK_FORMAT`; only then is it parsed, by safetensors (a JSON header and raw
tensors, no pickle). Anything else is reported as unreadable, never trusted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from .paths import user_folder
from .atomic import atomic_write

#: The format's name and version, written into every file's header.
NETWORK_FORMAT = "posthoc-network/1"
#: The suffix of a network file.
NETWORK_SUFFIX = ".safetensors"
#: Largest network file read (a paper network is about 40 kB; the widest ablation 0.4 MB).
MAX_NETWORK_BYTES = 16 * 2 ** 20
#: What a network file's name must be: its cache key and the suffix.
NETWORK_NAME = re.compile(r"[0-9a-f]{24}\.safetensors")


def cache_dir() -> Path:
    """Folder of cached networks: ``$POSTHOC_CACHE``, else ``~/.cache/posthoc/networks``."""
    return user_folder("POSTHOC_CACHE", "networks")


def network_path(folder: str | Path, key: str) -> Path:
    """The file of the network with cache key ``key`` in ``folder``."""
    return Path(folder) / f"{key}{NETWORK_SUFFIX}"


def save_network(state: dict[str, torch.Tensor], log: dict[str, Any], path: Path) -> Path:
    """Write ``state`` and its training ``log`` to a temporary file beside ``path``, then
    rename it, so that a reader never sees half a file."""
    tensors = {name: tensor.detach().contiguous() for name, tensor in state.items()}
    return atomic_write(path, lambda temporary: save_file(
        tensors, temporary, metadata={"format": NETWORK_FORMAT, "log": json.dumps(log)}))


def read_network(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The state dict and training log in the network file ``path``; a ValueError saying why
    when the file is not one :func:`save_network` writes."""
    path = Path(path)
    if not NETWORK_NAME.fullmatch(path.name):
        raise ValueError(f"its name is not a cache key with the {NETWORK_SUFFIX} suffix")
    size = path.stat().st_size
    if size > MAX_NETWORK_BYTES:
        raise ValueError(f"it holds {size} bytes, more than the {MAX_NETWORK_BYTES} allowed")
    try:
        with safe_open(str(path), framework="pt") as stored:
            header = stored.metadata() or {}
            if header.get("format") != NETWORK_FORMAT:
                raise ValueError(f"its header names format {header.get('format')!r}, "
                                 f"not {NETWORK_FORMAT!r}")
            state = {name: stored.get_tensor(name) for name in stored.keys()}
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
        raise ValueError(f"it is not a safetensors file ({type(exc).__name__})") from None
    try:
        log = json.loads(header.get("log", ""))
    except json.JSONDecodeError:
        raise ValueError("its header's training log is not JSON") from None
    if not isinstance(log, dict):
        raise ValueError("its header's training log is not a JSON object")
    return state, log


__all__ = ["MAX_NETWORK_BYTES", "NETWORK_FORMAT", "NETWORK_NAME", "NETWORK_SUFFIX",
           "cache_dir", "network_path", "read_network", "save_network"]
