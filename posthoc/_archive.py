"""The result file: one zip archive holding a JSON description and a ``torch.export`` program,
read back without ever running pickled code."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .atomic import atomic_write
from ._program_check import (MAX_JSON_BYTES, MAX_MEMBER_BYTES, MAX_TOTAL_BYTES,
                             check_program_layout, checked_members, parse_json, quiet_torch,
                             read_member)
from .validation import error_summary

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
    def zipped(temporary: str) -> None:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_METADATA, json.dumps({"format": FORMAT, **metadata}, indent=1))
            archive.writestr(_PROGRAM, program)
    return atomic_write(path, zipped)


def _not_ours(path: Path, why: str) -> ValueError:
    return ValueError(f"{path} is not a posthoc result file ({why}); expected one written by "
                      "DebiasResult.save.")


def read(path: str | Path) -> tuple[dict[str, Any], nn.Module]:
    """The description and the model of the archive at ``path``: exactly the two members
    :func:`write` writes, each within its size cap, the description a JSON object of bounded
    size and depth, the model a program :func:`load_program` accepts."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"result file {path} is a directory; expected a file written by "
                         "DebiasResult.save.")
    if not path.is_file():
        raise FileNotFoundError(f"result file {path} does not exist.")
    try:
        with zipfile.ZipFile(path) as archive:
            members = checked_members(archive, path)
            if set(members) != {_METADATA, _PROGRAM}:
                raise _not_ours(path, f"it holds {sorted(members)}, not exactly "
                                      f"{[_METADATA, _PROGRAM]}")
            metadata = parse_json(read_member(archive, members[_METADATA], path,
                                              MAX_JSON_BYTES), f"{path}: {_METADATA}")
            program = read_member(archive, members[_PROGRAM], path, MAX_MEMBER_BYTES)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _not_ours(path, f"{type(exc).__name__}: {exc}") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        found = metadata.get("format") if isinstance(metadata, dict) else None
        raise _not_ours(path, f"format {found!r}, not {FORMAT!r}")
    return metadata, load_program(program, source=path)


def load_program(program: bytes | str | Path, *, source: str | Path | None = None) -> nn.Module:
    """The module of a ``torch.export`` program (bytes or a ``.pt2`` file), checked before
    torch reads it: the archive may hold exactly the members ``torch.export.save`` writes
    for one module (:func:`check_program_layout`), each within its size cap, its weights and
    constants stored raw (never pickled) and its sample inputs plain tensors."""
    source = source or program
    if isinstance(program, (str, Path)):
        file = Path(program)
        if file.is_dir():
            raise ValueError(f"{file} is a directory; expected a torch.export program "
                             "(.pt2 file).")
        if file.stat().st_size > MAX_TOTAL_BYTES:
            raise ValueError(f"{file} is {file.stat().st_size} bytes; a program may be at most "
                             f"{MAX_TOTAL_BYTES}.")
        data = file.read_bytes()
    else:
        data = program
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_program_layout(archive, source)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"{source} is not a readable torch.export program "
                         f"({type(exc).__name__}: {exc}).") from None
    try:
        with quiet_torch():
            return torch.export.load(io.BytesIO(data)).module()
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a foreign file
        raise ValueError(f"{source} is not a readable torch.export program "
                         f"({error_summary(exc)}).") from None


__all__ = ["FORMAT", "export_program", "load_program", "read", "write"]
