"""Loading never runs code: crafted result archives and programs, each carrying a pickle
that would write a marker file if it ran, are refused before torch reads them; sizes and
JSON are capped before they are parsed; and every field of a result file is checked."""

from __future__ import annotations

import io
import json
import math
import pickle
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import posthoc
from posthoc import _program_check
from posthoc._archive import load_program
from posthoc.methods._common import BAD_FIELD
from problems import biased_problem

SPLIT = biased_problem(200, 0)


class Marker:
    """Unpickling this writes its file: proof that a pickle ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (Path(self.path).write_text, ("pickle ran",))


def _saved(tmp_path) -> Path:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 1), torch.nn.Sigmoid())
    result = posthoc.debias(model, SPLIT, "default")
    return result.save(tmp_path / "result.zip")


def _rewrite(archive_bytes: bytes, change) -> bytes:
    """The zip ``archive_bytes`` with ``change(members)`` applied ({name: bytes})."""
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as source:
        members = {name: source.read(name) for name in source.namelist()}
    change(members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
    return out.getvalue()


def _program(tmp_path) -> bytes:
    with zipfile.ZipFile(_saved(tmp_path)) as archive:
        return archive.read("model.pt2")


def _root(members) -> str:
    return next(iter(members)).split("/", 1)[0]


def _with_result(tmp_path, program: bytes) -> Path:
    path = tmp_path / "crafted.zip"
    with zipfile.ZipFile(_saved(tmp_path)) as archive:
        metadata = archive.read("posthoc.json")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("posthoc.json", metadata)
        archive.writestr("model.pt2", program)
    return path


def _second_program(members):
    root = _root(members)
    members[f"{root}/models/evil.json"] = members[f"{root}/models/model.json"]
    members[f"{root}/data/constants/evil_constants_config.json"] = json.dumps(
        {"config": {"c": {"path_name": "tensor_9", "use_pickle": True}}}).encode()


def _opaque_constant(members, marker):
    root = _root(members)
    members[f"{root}/data/constants/model_constants_config.json"] = json.dumps(
        {"config": {"c": {"path_name": "opaque_obj_0", "use_pickle": False}}}).encode()
    members[f"{root}/data/constants/opaque_obj_0"] = pickle.dumps(Marker(marker))


def _pickled_weight(members, marker):
    root = _root(members)
    name = f"{root}/data/weights/model_weights_config.json"
    config = json.loads(members[name])
    first = next(iter(config["config"]))
    config["config"][first]["use_pickle"] = True
    members[name] = json.dumps(config).encode()
    members[f"{root}/data/weights/{config['config'][first]['path_name']}"] = pickle.dumps(
        Marker(marker))


def _pickled_constant(members, marker, prefix="tensor_"):
    root = _root(members)
    members[f"{root}/data/constants/model_constants_config.json"] = json.dumps(
        {"config": {"c": {"path_name": f"{prefix}0", "use_pickle": True}}}).encode()
    members[f"{root}/data/constants/{prefix}0"] = pickle.dumps(Marker(marker))


def _aotinductor(members, marker):
    members[f"{_root(members)}/data/aotinductor/model/model.so"] = pickle.dumps(Marker(marker))


def _pickled_sample_inputs(members, marker):
    members[f"{_root(members)}/data/sample_inputs/model.pt"] = pickle.dumps(Marker(marker))


CRAFTED = {
    "a second program beside the model": (lambda m, _: _second_program(m),
                                          r"holds '.*models/evil\.json'|holds 'data/constants/evil"
                                          r"|holds 'models/evil\.json'"),
    "a constant named opaque_obj_0": (_opaque_constant, r"lists 'c' as 'opaque_obj_0'"),
    "a pickled weight": (_pickled_weight, r"stores '.*' pickled"),
    "a pickled tensor constant": (_pickled_constant, r"stores 'c' pickled"),
    "a custom object constant": (lambda m, marker: _pickled_constant(m, marker, "custom_obj_"),
                                 r"lists 'c' as 'custom_obj_0', not a raw tensor"),
    "compiled aotinductor files": (_aotinductor, r"holds 'data/aotinductor/model/model\.so'"),
    "pickled sample inputs": (_pickled_sample_inputs, r"sample inputs hold objects other"),
}


@pytest.mark.parametrize("case", CRAFTED, ids=list(CRAFTED))
def test_no_crafted_program_runs_code_through_any_entry(case, tmp_path):
    change, message = CRAFTED[case]
    marker = tmp_path / "marker"
    program = _rewrite(_program(tmp_path), lambda members: change(members, marker))
    with pytest.raises(ValueError, match=message):
        load_program(program, source="crafted")
    with pytest.raises(ValueError, match=message):
        posthoc.load_result(_with_result(tmp_path, program))
    (tmp_path / "crafted.pt2").write_bytes(program)
    from posthoc.__main__ import main
    assert main(["evaluate", "--result", str(_with_result(tmp_path, program)), "--data",
                 str(tmp_path / "none.csv"), "--label", "y", "--protected", "a",
                 "--privileged", "1"]) == 2
    assert not marker.exists(), "a pickle ran while loading"


def test_a_result_archive_holds_exactly_its_two_members(tmp_path):
    marker = tmp_path / "marker"
    path = _saved(tmp_path)
    crafted = tmp_path / "extra.zip"
    crafted.write_bytes(_rewrite(path.read_bytes(), lambda m: m.update(
        {"evil.pkl": pickle.dumps(Marker(marker))})))
    with pytest.raises(ValueError, match=r"it holds \['evil\.pkl', 'model\.pt2', "
                                         r"'posthoc\.json'\], not exactly"):
        posthoc.load_result(crafted)
    assert not marker.exists()
    # A torch.save file is a zip too, of other members: refused before torch opens it.
    saved = tmp_path / "weights.pt2"
    torch.save({"w": torch.zeros(2)}, saved)
    with pytest.raises(ValueError, match=r"is refused before it is read: it lacks"):
        load_program(saved)


def test_sizes_and_json_depth_are_capped_before_anything_is_parsed(tmp_path, monkeypatch):
    path = _saved(tmp_path)
    monkeypatch.setattr(_program_check, "MAX_MEMBER_BYTES", 1000)
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"member 'model\.pt2' declares \d+ bytes \(at most "
                                         r"1000\)"):
        posthoc.load_result(path)
    assert time.perf_counter() - start < 2
    monkeypatch.undo()
    deep = tmp_path / "deep.zip"
    deep.write_bytes(_rewrite(path.read_bytes(), lambda m: m.update(
        {"posthoc.json": ("[" * 200_000 + "]" * 200_000).encode()})))
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"its JSON nests 200000 levels \(at most 64\)"):
        posthoc.load_result(deep)
    assert time.perf_counter() - start < 5


def _edited(tmp_path, **fields) -> Path:
    path = _saved(tmp_path)
    edited = tmp_path / "edited.zip"

    def change(members):
        info = json.loads(members["posthoc.json"])
        info.update(fields)
        members["posthoc.json"] = json.dumps(info).encode()
    edited.write_bytes(_rewrite(path.read_bytes(), change))
    return edited


@pytest.mark.parametrize("field, value, expected", [
    ("lam", 5, "a number in [0, 1]"), ("method", "no-such-method", "a registered method"),
    ("seed", -3, "an integer in [0, 2**32 - 1]"), ("threshold", math.nan, "a finite number"),
    ("measure", "xyz", "a registered measure"),
    ("n_features", 7, "the program's input width, 5"),
])
def test_a_field_edited_in_the_file_is_named_with_the_file(field, value, expected, tmp_path):
    path = _edited(tmp_path, **{field: value})
    message = BAD_FIELD.format(path=path, field=field, value=value, expected=expected)
    with pytest.raises(ValueError, match=re.escape(message)):
        posthoc.load_result(path)


def test_a_saved_result_still_loads_and_predicts_the_same(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 1), torch.nn.Sigmoid())
    result = posthoc.debias(model, SPLIT, "random", trials=3)
    loaded = posthoc.load_result(result.save(tmp_path / "random.zip"))
    assert np.array_equal(loaded.predict(SPLIT.X), result.predict(SPLIT.X))
    assert (loaded.method, loaded.lam, loaded.n_features) == ("random", 0.75, 5)
