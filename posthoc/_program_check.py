"""What a file must look like before any library parses it: an allow-list of the members of
a ``torch.export`` program and of a result archive, caps on their sizes, and JSON of bounded
size and depth. Nothing here unpickles, and nothing outside the allow-list reaches torch."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import warnings
import zipfile
from pathlib import PurePosixPath
from typing import Any, Iterator

import numpy as np
import torch

#: Caps on what is read: one member, a whole program, a JSON text, and its nesting.
MAX_MEMBER_BYTES = 256 * 2**20
MAX_TOTAL_BYTES = 512 * 2**20
MAX_JSON_BYTES = 32 * 2**20
MAX_JSON_DEPTH = 64
MAX_MEMBERS = 100_000
#: The members ``torch.export.save`` writes for one module named ``model``, below one root
#: folder: fixed names, and the numbered raw tensors its two configs list.
PROGRAM_FILES = frozenset({
    "archive_format", "archive_version", "byteorder", ".data/version",
    ".data/serialization_id", "models/model.json", "data/weights/model_weights_config.json",
    "data/constants/model_constants_config.json", "data/sample_inputs/model.pt"})
RAW_TENSORS = {"data/weights/model_weights_config.json": ("data/weights/", r"weight_\d+"),
               "data/constants/model_constants_config.json": ("data/constants/", r"tensor_\d+")}


def refused(source, why: str) -> ValueError:
    return ValueError(f"{source} is refused before it is read: {why}. posthoc loads only "
                      "torch.export programs of one module with raw tensors, as "
                      "torch.export.save writes them.")


def checked_members(archive: zipfile.ZipFile, source) -> dict[str, zipfile.ZipInfo]:
    """``{name: info}`` of the archive's members, after checking their number, that no name
    repeats and that their declared sizes are within the caps."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise refused(source, f"it has {len(infos)} members (at most {MAX_MEMBERS})")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.filename in members:
            raise refused(source, f"member {info.filename!r} appears twice")
        if info.file_size > MAX_MEMBER_BYTES:
            raise refused(source, f"member {info.filename!r} declares {info.file_size} bytes "
                                  f"(at most {MAX_MEMBER_BYTES})")
        members[info.filename] = info
    total = sum(info.file_size for info in infos)
    if total > MAX_TOTAL_BYTES:
        raise refused(source, f"its members declare {total} bytes (at most {MAX_TOTAL_BYTES})")
    return members


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source, cap: int) -> bytes:
    """A member's bytes, never more than its declared size nor ``cap`` (a member that
    inflates beyond what it declares is refused)."""
    limit = min(info.file_size, cap)
    with archive.open(info) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise refused(source, f"member {info.filename!r} holds more than "
                              f"{'its declared size' if limit == info.file_size else 'the cap'}"
                              f" ({limit} bytes)")
    return data


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in the JSON ``text`` (strings skipped).

    Examples
    --------
    >>> json_depth('{"a": [1, {"b": "[[[", "c": "\\\\"}]}')
    3
    """
    bare = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    steps = np.frombuffer(bare.encode(), dtype=np.uint8)
    change = np.isin(steps, (91, 123)).astype(np.int64) - np.isin(steps, (93, 125))
    return int(np.cumsum(change).max()) if change.size else 0


def parse_json(data: bytes, source) -> Any:
    """JSON ``data``, refused when larger than :data:`MAX_JSON_BYTES` or nested deeper than
    :data:`MAX_JSON_DEPTH`, checked before it is parsed."""
    if len(data) > MAX_JSON_BYTES:
        raise refused(source, f"its JSON is {len(data)} bytes (at most {MAX_JSON_BYTES})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refused(source, f"its JSON is not UTF-8 ({exc.reason})") from None
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise refused(source, f"its JSON nests {depth} levels (at most {MAX_JSON_DEPTH})")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise refused(source, f"its JSON does not parse ({exc})") from None


def _split_root(members: dict[str, zipfile.ZipInfo], source) -> tuple[str, dict[str, str]]:
    roots = {name.split("/", 1)[0] for name in members}
    if len(roots) != 1 or any("/" not in name for name in members):
        raise refused(source, f"its members are not all in one folder ({sorted(roots)[:3]})")
    root = roots.pop()
    inner = {}
    for name in members:
        rest = name[len(root) + 1:]
        if PurePosixPath(rest).is_absolute() or ".." in PurePosixPath(rest).parts:
            raise refused(source, f"member {name!r} points outside the archive")
        inner[rest] = name
    return root, inner


def _raw_tensor_names(archive, members, inner, config_name, source) -> set[str]:
    """The tensor files a weights or constants config lists, every one raw, named as
    torch names raw tensors, and present."""
    folder, pattern = RAW_TENSORS[config_name]
    config = parse_json(read_member(archive, members[inner[config_name]], source,
                                    MAX_JSON_BYTES), source)
    entries = config.get("config", {}) if isinstance(config, dict) else None
    if not isinstance(entries, dict):
        raise refused(source, f"{config_name} is not a tensor config")
    names = set()
    for key, entry in entries.items():
        path = entry.get("path_name") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not re.fullmatch(pattern, path):
            raise refused(source, f"{config_name} lists {key!r} as {path!r}, not a raw tensor")
        if entry.get("use_pickle") is not False:
            raise refused(source, f"{config_name} stores {key!r} pickled")
        if folder + path not in inner:
            raise refused(source, f"{config_name} lists {path!r}, which is missing")
        names.add(folder + path)
    return names


def check_program_layout(archive: zipfile.ZipFile, source) -> None:
    """Refuse, before torch reads it, any program that is not one module as
    ``torch.export.save`` writes it: :data:`PROGRAM_FILES` and the raw tensors its configs
    list, nothing else; sample inputs that load as plain tensors."""
    members = checked_members(archive, source)
    _, inner = _split_root(members, source)
    missing = sorted(PROGRAM_FILES - set(inner))
    if missing:
        raise refused(source, f"it lacks {missing[0]!r}")
    tensors = set().union(*(_raw_tensor_names(archive, members, inner, config, source)
                            for config in RAW_TENSORS))
    extra = sorted(set(inner) - PROGRAM_FILES - tensors)
    if extra:
        raise refused(source, f"it holds {extra[0]!r}, which a program of one module with raw "
                              "tensors does not have")
    parse_json(read_member(archive, members[inner["models/model.json"]], source,
                           MAX_JSON_BYTES), source)
    sample = read_member(archive, members[inner["data/sample_inputs/model.pt"]], source,
                         MAX_MEMBER_BYTES)
    try:
        with quiet_torch(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.load(io.BytesIO(sample), weights_only=True)
    except Exception:  # noqa: BLE001 - a restricted unpickler refuses in many ways
        raise refused(source, "its sample inputs hold objects other than tensors") from None


@contextlib.contextmanager
def quiet_torch() -> Iterator[None]:
    """Silence torch's own logging while it probes a file (errors are reported by us)."""
    loggers = [logging.getLogger(name) for name in ("torch", "torch._export", "torch.export")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


__all__ = ["MAX_JSON_BYTES", "MAX_JSON_DEPTH", "MAX_MEMBER_BYTES", "MAX_MEMBERS",
           "MAX_TOTAL_BYTES", "PROGRAM_FILES", "RAW_TENSORS", "check_program_layout",
           "checked_members", "json_depth", "parse_json", "quiet_torch", "read_member",
           "refused"]
