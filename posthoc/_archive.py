"""The result file: one zip archive holding a JSON description and a ``torch.export`` program,
read back without ever running pickled code."""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ._validation import error_summary

#: The format's name and version, written into every file.
FORMAT = "posthoc-result/1"
_METADATA = "posthoc.json"
_PROGRAM = "model.pt2"


def export_program(model: nn.Module, n_features: int) -> bytes:
    """``model`` (in eval mode) as a ``torch.export`` program taking (n, n_features) rows."""
    example = torch.zeros(2, n_features)
    program = torch.export.export(model.eval(), (example,),
                                  dynamic_shapes=({0: torch.export.Dim("rows")},))
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    return buffer.getvalue()


def write(path: str | Path, metadata: dict[str, Any], program: bytes) -> Path:
    """Write the archive to a temporary file beside ``path``, then rename it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_METADATA, json.dumps({"format": FORMAT, **metadata}, indent=1))
            archive.writestr(_PROGRAM, program)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


def _not_ours(path: Path, why: str) -> ValueError:
    return ValueError(f"{path} is not a posthoc result file ({why}); expected one written by "
                      "DebiasResult.save.")


def read(path: str | Path) -> tuple[dict[str, Any], nn.Module]:
    """The description and the model of the archive at ``path``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"result file {path} does not exist.")
    try:
        with zipfile.ZipFile(path) as archive:
            metadata = json.loads(archive.read(_METADATA))
            program = archive.read(_PROGRAM)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _not_ours(path, f"{type(exc).__name__}: {exc}") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        found = metadata.get("format") if isinstance(metadata, dict) else None
        raise _not_ours(path, f"format {found!r}, not {FORMAT!r}")
    return metadata, load_program(program, source=path)


def load_program(program: bytes | str | Path, *, source: str | Path | None = None) -> nn.Module:
    """The module of a ``torch.export`` program (bytes or a ``.pt2`` file), refused if any
    part of it would be unpickled: its weights and constants must be raw tensors and its
    sample inputs must load with ``torch.load(weights_only=True)``."""
    source = source or program
    data = Path(program).read_bytes() if isinstance(program, (str, Path)) else program
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                _check_part(archive, name, source)
        return torch.export.load(io.BytesIO(data)).module()
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a foreign file
        raise ValueError(f"{source} is not a readable torch.export program "
                         f"({error_summary(exc)}).") from None


def _check_part(archive: zipfile.ZipFile, name: str, source) -> None:
    if name.endswith(("model_weights_config.json", "model_constants_config.json")):
        config = json.loads(archive.read(name)).get("config", {})
        if any(entry.get("use_pickle") for entry in config.values()):
            raise ValueError(f"{source} holds pickled weights or constants ({name}); posthoc "
                             "loads only programs whose tensors are stored raw.")
    elif name.endswith(".pt") or "serialized_" in name:
        try:
            torch.load(io.BytesIO(archive.read(name)), weights_only=True)
        except Exception:  # noqa: BLE001
            raise ValueError(f"{source} holds pickled objects beyond tensors ({name}); "
                             "posthoc does not load them.") from None
