"""The posthoc command line and save/load on a model and CSV files that are not the paper's:
debias, save, load and evaluate give identical predictions; bad input exits with status 2
and one line naming what is wrong."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import posthoc
from posthoc.__main__ import main
from posthoc._archive import load_program


class ResidualMLP(nn.Module):
    """A model that is not the paper's: a residual block with LayerNorm."""

    def __init__(self, n_features: int, width: int = 16):
        super().__init__()
        self.inp = nn.Linear(n_features, width)
        self.block = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.GELU())
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        h = torch.relu(self.inp(x))
        return torch.sigmoid(self.out(h + self.block(h))).squeeze(-1)


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], n, p=[0.4, 0.6])
    hours = rng.normal(40, 8, n)
    years = rng.integers(0, 20, n)
    hired = ((hours - 40) / 8 + (sex == "male") + 0.5 * rng.normal(size=n) > 0.5).astype(int)
    return pd.DataFrame({"hours": hours, "years": years, "sex": sex, "hired": hired})


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("own")
    train, valid, test = _frame(400, 0), _frame(300, 1), _frame(300, 2)
    for name, frame in (("valid", valid), ("test", test)):
        frame.to_csv(folder / f"{name}.csv", index=False)
    features = ["hours", "years"]
    split = posthoc.Split.from_frame(train, label="hired", protected="sex",
                                     privileged="male", features=features)
    torch.manual_seed(0)
    model = ResidualMLP(2)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    X, y = torch.from_numpy(split.X), torch.from_numpy(split.y).float()
    X = (X - X.mean(0)) / X.std(0)
    for _ in range(50):
        optimiser.zero_grad()
        nn.functional.binary_cross_entropy(model(X), y).backward()
        optimiser.step()
    program = torch.export.export(model.eval(), (X[:4],),
                                  dynamic_shapes=({0: torch.export.Dim("rows")},))
    torch.export.save(program, folder / "model.pt2")
    return folder


def _common(folder, data):
    return ["--data", str(folder / data), "--label", "hired", "--protected", "sex",
            "--privileged", "male", "--features", "hours,years"]


@pytest.mark.parametrize("method", ["random", "default", "eqodds"])
def test_debias_save_load_and_evaluate_from_the_command_line(files, method, capsys):
    out = files / f"{method}.zip"
    options = ["--option", "trials=20", "--seed", "3"] if method == "random" else []
    assert main(["debias", "--model", str(files / "model.pt2"), *_common(files, "valid.csv"),
                 "--method", method, "--measure", "eod", *options, "--out", str(out)]) == 0
    assert main(["evaluate", "--result", str(out), *_common(files, "test.csv"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(printed) == {"bias", "accuracy", "objective"}
    # The same through the Python API, with identical predictions after loading.
    test = posthoc.Split.from_frame(pd.read_csv(files / "test.csv"), label="hired",
                                    protected="sex", privileged="male",
                                    features=["hours", "years"])
    loaded = posthoc.load_result(out)
    assert loaded.method == method and loaded.measure == "eod" and loaded.lam == 0.75
    assert printed == pytest.approx({k: posthoc.evaluate(loaded, test)[k] for k in printed})
    valid = posthoc.Split.from_frame(pd.read_csv(files / "valid.csv"), label="hired",
                                     protected="sex", privileged="male",
                                     features=["hours", "years"])
    direct = posthoc.debias(load_program(files / "model.pt2"), valid, method, measure="eod",
                            seed=3 if method == "random" else 0,
                            **({"trials": 20} if method == "random" else {}))
    assert np.array_equal(direct.predict(test.X, test.a), loaded.predict(test.X, test.a))


def test_methods_that_need_layers_refuse_an_exported_program(files, capsys):
    status = main(["debias", "--model", str(files / "model.pt2"), *_common(files, "valid.csv"),
                   "--method", "layerwise", "--out", str(files / "x.zip")])
    err = capsys.readouterr().err
    assert status == 2 and "method 'layerwise' needs a model with nn.Linear layers" in err


@pytest.mark.parametrize("change, message", [
    ({"--data": "{folder}/missing.csv"}, r"data file .*missing\.csv does not exist"),
    ({"--label": "salary"}, r"label column 'salary' is not in the frame"),
    ({"--features": "hours,colour"}, r"feature column 'colour' is not in the frame"),
    ({"--features": "hours,sex"}, r"feature column 'sex' must be numeric"),
    ({"--privileged": "robot"}, r"privileged value 'robot' does not occur in column 'sex'"),
    ({"--method": "magic"}, r"Unknown method 'magic'; valid values are"),
    ({"--model": "nothing.pt2"}, r"model file nothing\.pt2 does not exist"),
    ({"--model": "{folder}/valid.csv"}, r"valid\.csv is not a readable torch\.export program"),
    ({"--option": "trials"}, r"--option 'trials' is not NAME=VALUE"),
    ({"--option": "trials=0"}, r"Option trials=0 of method 'random' is not allowed"),
    ({"--lam": "2"}, r"lam must be a number in \[0, 1\]"),
])
def test_bad_input_exits_with_status_2_and_one_line(files, change, message, capsys):
    arguments = {"--model": str(files / "model.pt2"), "--data": str(files / "valid.csv"),
                 "--label": "hired", "--protected": "sex", "--privileged": "male",
                 "--features": "hours,years", "--out": str(files / "bad.zip")}
    arguments.update({key: value.format(folder=files) for key, value in change.items()})
    argv = ["debias"] + [item for pair in arguments.items() for item in pair]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("posthoc: error: ")
    assert re.search(message, err), err


@pytest.mark.parametrize("content, message", [
    (b"", r"is not a posthoc result file"),
    (b"PK\x03\x04 truncated", r"is not a posthoc result file"),
])
def test_a_damaged_result_file_is_named(files, tmp_path, content, message, capsys):
    path = tmp_path / "damaged.zip"
    path.write_bytes(content)
    assert main(["evaluate", "--result", str(path), *_common(files, "test.csv")]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and re.search(message, err)


def test_a_truncated_result_file_is_named(files, tmp_path, capsys):
    main(["debias", "--model", str(files / "model.pt2"), *_common(files, "valid.csv"),
          "--method", "default", "--out", str(tmp_path / "good.zip")])
    data = (tmp_path / "good.zip").read_bytes()
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.zip is not a posthoc result file"):
        posthoc.load_result(tmp_path / "cut.zip")
    with pytest.raises(FileNotFoundError, match=r"result file .*none\.zip does not exist"):
        posthoc.load_result(tmp_path / "none.zip")


def test_a_long_method_shows_its_progress_on_stderr_unless_quiet(files, capsys):
    command = ["debias", "--model", str(files / "model.pt2"), *_common(files, "valid.csv"),
               "--method", "random", "--option", "trials=8", "--out", str(files / "r.zip")]
    assert main(command) == 0
    assert "random perturbation: trials" in capsys.readouterr().err
    assert main(command + ["--quiet"]) == 0
    assert "random perturbation: trials" not in capsys.readouterr().err


def test_the_constrained_objective_from_the_command_line(files, capsys):
    out = files / "constrained.zip"
    assert main(["debias", "--model", str(files / "model.pt2"), *_common(files, "valid.csv"),
                 "--method", "random", "--option", "trials=8", "--objective", "constrained",
                 "--epsilon", "0.1", "--quiet", "--out", str(out)]) == 0
    loaded = posthoc.load_result(out)
    assert loaded.criterion.constrained and loaded.criterion.epsilon == 0.1
    assert main(["debias", "--model", str(files / "model.pt2"), *_common(files, "valid.csv"),
                 "--method", "random", "--epsilon", "0.1", "--out", str(out)]) == 2
    assert "epsilon only apply to objective='constrained'" in capsys.readouterr().err


def test_bad_paths_and_files_get_one_line_each(tmp_path, capsys):
    """--out, --data, --model and --result problems: exit status 2 and one line naming the
    path and what is wrong, never a traceback."""
    import numpy as np
    import pandas as pd

    from posthoc.__main__ import main

    frame = pd.DataFrame({"x1": np.arange(20.0), "x2": np.arange(20.0) % 3,
                          "a": np.arange(20) % 2, "y": (np.arange(20) % 4 > 1).astype(int)})
    data = tmp_path / "valid.csv"
    frame.to_csv(data, index=False)
    header_only = tmp_path / "header.csv"
    frame.iloc[:0].to_csv(header_only, index=False)
    huge = tmp_path / "huge.csv"
    frame.assign(x1=frame["x1"].where(frame.index != 3, 1e39)).to_csv(huge, index=False)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    split = ["--label", "y", "--protected", "a", "--privileged", "1"]

    def error(*argv):
        assert main(list(argv)) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        return err

    assert f"model file {tmp_path} is a directory" in error(
        "debias", "--model", str(tmp_path), "--data", str(data), *split, "--out",
        str(tmp_path / "r.zip"))
    assert f"--out {tmp_path} is a directory" in error(
        "debias", "--model", str(data), "--data", str(data), *split, "--out", str(tmp_path))
    assert f"{blocker} is a file, so no folder can be made there" in error(
        "debias", "--model", str(data), "--data", str(data), *split, "--out",
        str(blocker / "r.zip"))
    assert "cannot be written by this user" in error(
        "debias", "--model", str(data), "--data", str(data), *split, "--out", "/proc/r.zip")
    assert f"data file {tmp_path} is a directory" in error(
        "evaluate", "--result", str(data), "--data", str(tmp_path), *split)
    assert f"data file {header_only} has no rows" in error(
        "evaluate", "--result", str(blocker), "--data", str(header_only), *split)
    assert "feature column 'x1' holds 1 value(s) that are infinite or beyond float32" in error(
        "evaluate", "--result", str(blocker), "--data", str(huge), *split)
    torch_file = tmp_path / "weights.pt"
    import torch
    torch.save({"w": torch.zeros(2)}, torch_file)
    assert "is refused before it is read" in error(
        "debias", "--model", str(torch_file), "--data", str(data), *split, "--out",
        str(tmp_path / "r.zip"))


def test_a_program_of_fixed_batch_size_and_a_width_mismatch_are_one_line(tmp_path, capsys):
    import numpy as np
    import pandas as pd
    import torch

    from posthoc.__main__ import main

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Sigmoid())
    fixed = tmp_path / "fixed.pt2"
    torch.export.save(torch.export.export(model.eval(), (torch.zeros(4, 2),)), fixed)
    frame = pd.DataFrame({"x1": np.arange(20.0), "x2": np.arange(20.0) % 3,
                          "a": np.arange(20) % 2, "y": (np.arange(20) % 4 > 1).astype(int)})
    data = tmp_path / "valid.csv"
    frame.to_csv(data, index=False)
    split = ["--label", "y", "--protected", "a", "--privileged", "1"]
    assert main(["debias", "--model", str(fixed), "--data", str(data), *split, "--features",
                 "x1,x2", "--method", "default", "--out", str(tmp_path / "r.zip")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "could not score X of shape (20, 2)" in err
    assert "first dimension is dynamic" in err
    # Three columns for a two-feature model: the counts and the columns are named.
    assert main(["debias", "--model", str(fixed), "--data", str(data), *split,
                 "--out", str(tmp_path / "r.zip")]) == 2
    err = capsys.readouterr().err
    assert (f"model {fixed} takes 2 features; {data} gives 3 (every column but the label)"
            in err)
