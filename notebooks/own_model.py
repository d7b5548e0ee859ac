# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Debias your own model
#
# The other chapters reproduce the paper with its own network and AIF360's preprocessing.
# This one is for a practitioner: a model that is not the paper's, data read with pandas,
# and the whole workflow — debias, evaluate on held-out data, save, load and predict — first
# in Python, then from the command line. The code is the lesson here, so it is shown.
#
# The model is a small residual network with LayerNorm, trained below on the Adult census
# data read straight from its CSV file; the protected attribute is sex, and "male" is the
# privileged group. Any `torch.nn.Module` that outputs one probability per row works the
# same way.

# %% tags=["parameters"]
# "quick": 5 training epochs, 20 random trials; "paper": 30 epochs, 201
# trials
profile = "quick"
# training epochs of the model; None: the profile's
epochs = None
# the post-hoc method, any registered one: default, random, layerwise, adversarial, roc,
# eqodds, calibeqodds, thresholdopt, fairpredictor; None: random perturbation
method = None
# the bias measure; None: spd (statistical parity difference)
measure = None
# weight of |bias| in the objective; None: 0.5 (see below)
lam = None
# seed of the method; None: 0
seed = None
# random perturbation trials; None: the profile's
trials = None
# other options of the method, e.g. {"calls": 12}; None: the profile's budget for it
# ("quick": 12 layer-wise calls, 2 adversarial epochs; "paper": the method's defaults)
options = None

# %%
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from myst_nb import glue
from torch import nn

import posthoc
from posthoc.diagnostics import ONE_CLASS_SHARE, constant_objective, is_one_class, majority_share
from posthoc.data import default_data_dir, ensure_files
from posthoc.repro.parameters import describe_settings, own_model_options, resolve_notebook
from posthoc.repro.tables import read_frames

read_frames()  # every table below is formatted for reading
settings = resolve_notebook("own_model", globals())
method_options = own_model_options(profile, settings)
print(describe_settings(profile, {**settings, "options": method_options}))

# %% [markdown]
# ## Your data, with your own preprocessing
#
# Read the CSV, drop rows with missing values, one-hot encode the categorical columns and
# standardise the numeric ones with the training split's statistics. `Split.from_frame` then
# takes the label, the protected column (any dtype: here the strings "Male" and "Female")
# and the privileged value.

# %%
columns = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
           "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
           "hours-per-week", "native-country", "income"]
folder = ensure_files(["adult/adult.data"], default_data_dir())
raw = pd.read_csv(folder / "adult/adult.data", header=None, names=columns,
                  skipinitialspace=True, na_values="?").dropna()
frame = pd.get_dummies(raw.drop(columns=["fnlwgt", "education"]),
                       columns=["workclass", "marital-status", "occupation", "relationship",
                                "race", "native-country"], dtype=float)
frame["income"] = (frame["income"] == ">50K").astype(int)
order = np.random.default_rng(0).permutation(len(frame))
cuts = [0, int(0.6 * len(frame)), int(0.8 * len(frame)), len(frame)]
parts = [frame.iloc[order[start:end]] for start, end in zip(cuts, cuts[1:])]
numeric = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
mean, std = parts[0][numeric].mean(), parts[0][numeric].std()
features = [c for c in frame.columns if c not in ("income", "sex")]
train, valid, test = (
    posthoc.Split.from_frame(part.assign(**((part[numeric] - mean) / std)), label="income",
                             protected="sex", privileged="Male", features=features)
    for part in parts)
print(f"{len(features)} features; train {len(train)}, validation {len(valid)}, test "
      f"{len(test)} rows; privileged share {train.a.mean():.2f}")

# %% [markdown]
# ## Your model
#
# A residual block with LayerNorm, trained with Adam on the training split.

# %%
class ResidualMLP(nn.Module):
    def __init__(self, n_features: int, width: int = 64):
        super().__init__()
        self.inp = nn.Linear(n_features, width)
        self.block = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.GELU(),
                                   nn.Linear(width, width))
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        h = torch.relu(self.inp(x))
        return torch.sigmoid(self.out(h + self.block(h))).squeeze(-1)


# Batches of 256 rows are small: one thread trains as fast as two, and stays as fast when
# other programs share the processor, where two threads wait on each other.
torch.set_num_threads(1)
torch.manual_seed(0)
model = ResidualMLP(len(features))
optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
X, y = torch.from_numpy(train.X), torch.from_numpy(train.y).float()
batches = torch.Generator().manual_seed(0)
for epoch in range(settings["epochs"]):
    for rows in torch.randperm(len(train), generator=batches).split(256):
        optimiser.zero_grad()
        nn.functional.binary_cross_entropy(model(X[rows]), y[rows]).backward()
        optimiser.step()
model.eval()
print(f"trained for {settings['epochs']} epochs; training loss "
      f"{nn.functional.binary_cross_entropy(model(X), y).item():.4f}")

# %% [markdown]
# ## Debias it in three lines

# %%
result = posthoc.debias(model, valid, settings["method"], measure=settings["measure"],
                        lam=settings["lam"], seed=settings["seed"], **method_options)
scores = posthoc.evaluate(result, test)

# %% [markdown]
# Beside it, the model as it is (the `default` method: its most accurate validation
# threshold), on the validation split the method optimised and on the test split it never
# saw.

# %%
untouched = posthoc.debias(model, valid, "default", measure=settings["measure"],
                           lam=settings["lam"])
comparison = pd.DataFrame([
    {"model": name, "split": split_name, **{k: row[k] for k in ("bias", "accuracy",
                                                                  "objective")},
     "positive rate": fitted.predict(split.X, split.a).mean()}
    for name, fitted in (("as trained", untouched), (f"debiased ({result.method})", result))
    for split_name, split in (("validation", valid), ("test", test))
    for row in [posthoc.evaluate(fitted, split)]])
one_class = is_one_class(positive_rate=comparison["positive rate"].to_numpy())
if one_class.any():
    print(f"WARNING: a result gives one decision to at least {ONE_CLASS_SHARE:.0%} of a split "
          "(one-class): its bias is near 0 by construction, and it decides almost nothing.")
trap = {lam_: constant_objective(valid, lam=lam_) for lam_ in (0.75, 0.5)}
accuracy = posthoc.evaluate(untouched, valid)["accuracy"]
glue("trap_majority", f"{majority_share(valid):.3f}", display=False)
glue("trap_paper", f"{trap[0.75]:.4f}", display=False)
glue("trap_half", f"{trap[0.5]:.4f}", display=False)
glue("trap_accuracy", f"{accuracy:.3f}", display=False)
glue("trap_bias", f"{(trap[0.75] - 0.25 * (1 - accuracy)) / 0.75:.3f}", display=False)
comparison.round(4)

# %% [markdown]
# The validation split chose the weights and the threshold; the test split never took part,
# so its rows are what to expect on new data. The objective is
# λ·|bias| + (1 − λ)·(1 − accuracy), lower is better. `model` itself is unchanged.
#
# **Why λ = 0.5 here.** A classifier that predicts the same class for everybody has a bias
# of exactly 0 and the accuracy of the majority class ({glue:text}`trap_majority` of this
# validation split), so its objective is (1 − λ)·(1 − majority share). With the paper's
# λ = 0.75 that is {glue:text}`trap_paper`: to beat it at the model's own validation accuracy
# ({glue:text}`trap_accuracy`), a classifier needs |SPD| below {glue:text}`trap_bias`, which
# few reach on Adult without losing accuracy (see the main comparison's one-class
# reference), so the search easily ends at one class; with λ = 0.5 it is
# {glue:text}`trap_half`, which a classifier that keeps more of its accuracy can beat. The
# positive rate column shows whether a result fell into that trap (the cell above warns when
# one is one-class), and how close it came. Demographic parity is hard to reach on Adult without losing
# accuracy, because the base rates differ by sex:

# %%
for name, split in (("validation", valid), ("test", test)):
    print(f"{name}: share with income > 50K, women {split.y[split.a == 0].mean():.3f}, men "
          f"{split.y[split.a == 1].mean():.3f}; the debiased model predicts > 50K for "
          f"{result.predict(split.X, split.a).mean():.1%} of the split, as trained "
          f"{untouched.predict(split.X, split.a).mean():.1%}")

# %% [markdown]
# Other measures (`measure="eod"`: equal true-positive rates) and methods ask less of the
# classifier; the parameters above change them.
#
# ## Save it, load it, predict
#
# One file holds the debiased model (as a `torch.export` program) and everything needed to
# use it: threshold, method, measure, λ, seed, options and package versions. Loading it
# unpickles nothing, so a result file from elsewhere cannot run code.

# %%
scratch = tempfile.TemporaryDirectory()  # a folder removed when the kernel stops
workdir = Path(scratch.name)
path = result.save(workdir / "result.zip")
loaded = posthoc.load_result(path)
same = np.array_equal(loaded.predict(test.X, test.a), result.predict(test.X, test.a))
print(f"identical test predictions after loading: {same}")

# %% [markdown]
# ## The same from the command line
#
# The command line takes a `torch.export` program and CSV files. We export the trained
# model and write the two splits as CSV; a shell would run the two commands shown.

# %%
program = torch.export.export(model, (torch.from_numpy(valid.X[:4]),),
                              dynamic_shapes=({0: torch.export.Dim("rows")},))
torch.export.save(program, workdir / "model.pt2")
for name, split in (("valid", valid), ("test", test)):
    table = pd.DataFrame(split.X, columns=features).assign(income=split.y, sex=split.a)
    table.to_csv(workdir / f"{name}.csv", index=False)
common = ["--label", "income", "--protected", "sex", "--features", ",".join(features)]
debias_command = ["posthoc", "debias", "--model", "model.pt2", "--data", "valid.csv", *common,
                  "--method", settings["method"], "--measure", settings["measure"],
                  "--lam", str(settings["lam"]), "--seed", str(settings["seed"]),
                  *[part for name, value in method_options.items()
                    for part in ("--option", f"{name}={value!r}")], "--out", "cli.zip"]
evaluate_command = ["posthoc", "evaluate", "--result", "cli.zip", "--data", "test.csv",
                    *common, "--json"]
for command in (debias_command, evaluate_command):
    shown = [part if len(part) < 40 else part[:37] + "..." for part in command]
    print("$ " + " ".join(shown))
    finished = subprocess.run([sys.executable, "-m", "posthoc", *command[1:]], cwd=workdir,
                              capture_output=True, text=True)
    if finished.returncode:  # a method that needs the nn.Module is refused in one line
        print(finished.stderr.strip().splitlines()[-1])
        break
if finished.returncode == 0:
    cli = json.loads(finished.stdout)
    print({k: round(v, 4) for k, v in cli.items()})
    print("the same numbers as in Python:",
          all(np.isclose(cli[k], scores[k]) for k in ("bias", "accuracy", "objective")))
else:
    print(f"The command line cannot run {settings['method']!r} on an exported program; "
          "the Python calls above run it on the nn.Module.")

# %% [markdown]
# ## What to take away
#
# Debiasing a trained model post hoc needs the model, a validation split with the protected
# attribute, and a choice of measure and λ. Fine-tuning methods (random perturbation,
# layer-wise optimisation, adversarial fine-tuning) change the weights and need the protected
# attribute only on the validation split; the post-processing methods (`roc`, `eqodds`,
# `calibeqodds`) leave the weights alone but need the protected attribute of every person at
# prediction time, as do other post-processors such as fairlearn's `ThresholdOptimizer`
# {cite}`bird2020fairlearn`. The command line runs the methods that work on an exported program
# (`default`, `random` and the post-processors); layer-wise optimisation and adversarial
# fine-tuning need the `nn.Module` with its `nn.Linear` layers, so use them from Python.

# %% [markdown]
# ## Exercises
#
# Each exercise runs in well under two minutes with the quick profile; the solutions are
# hidden until you open them.

# %% [markdown]
# ```{exercise}
# :label: ex-own-lambda
#
# *Beginner.* Run the same debiasing with λ = 0.9 and λ = 0.25 and print the test bias, accuracy and
# positive rate of each. Where does the classifier become constant?
# ```
#
# ```{solution-start} ex-own-lambda
# :class: dropdown
# ```

# %%
for weight in (0.25, 0.9):
    other = posthoc.debias(model, valid, "random", measure=settings["measure"], lam=weight,
                           seed=settings["seed"], trials=settings["trials"])
    row = posthoc.evaluate(other, test)
    print(f"lambda {weight}: bias {row['bias']:+.4f}, accuracy {row['accuracy']:.4f}, "
          f"positive rate {row['positive_rate']:.3f}, constant {row['constant']}")

# %% [markdown]
# ```{solution-end}
# ```

# %% [markdown]
# ```{exercise}
# :label: ex-own-measure
#
# *Intermediate.* Debias for equal opportunity instead (`measure="eod"`), then evaluate the result under all
# three measures (`bias_spd`, `bias_eod`, `bias_aod` in `posthoc.evaluate`'s output). Does
# lowering one measure lower the others?
# ```
#
# ```{solution-start} ex-own-measure
# :class: dropdown
# ```

# %%
eod = posthoc.debias(model, valid, "random", measure="eod", lam=settings["lam"],
                     seed=settings["seed"], trials=settings["trials"])
pd.DataFrame([{"debiased for": name, **{k: posthoc.evaluate(r, test)[k]
                                        for k in ("bias_spd", "bias_eod", "bias_aod")}}
              for name, r in ((settings["measure"], result), ("eod", eod))]).round(4)

# %% [markdown]
# ```{solution-end}
# ```
