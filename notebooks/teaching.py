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
# # Teaching with this book
#
# This book is a reproduction that runs: every table, figure and verdict is computed when the
# book is built, and every chapter takes parameters. That makes it usable in a course on
# fairness in machine learning, on reproducibility, or on evaluating claims with data. This
# page gathers what a teacher needs: what each chapter teaches, how long it takes to run,
# how to set up a class, and which exercises suit which students.
#
# ## What each chapter teaches
#
# | Chapter | Learning goals |
# | --- | --- |
# | The need for neural networks | Compare models fairly: the same split, several seeds, mean and spread; see how a protocol choice (thresholds, a tuned baseline) moves a comparison; recognise a network that never trained |
# | Sensitivity of bias to the seed | Tell variation from signal: test whether bias varies with the seed more than accuracy, and whether a spread agrees with the paper's; check a statistic against what noise gives; see why a model scored on the rows it was fitted on proves nothing |
# | The main comparison | Read a fairness–accuracy objective; see why a weighted objective can reward predicting one class for everyone; judge a claim by a criterion fixed in advance, with intervals over seeds |
# | Ablations | Vary one design choice at a time; see how dropout and BatchNorm interact; count degenerate results before ranking methods |
# | Reproducibility | Put every reported number beside ours; separate the paper's description from the authors' code; measure the effect of each difference |
# | Debias your own model | Apply post-hoc debiasing to any PyTorch model and pandas data, evaluate on held-out data, save, load and serve the result, from Python and the command line |
# | Beyond the paper | See how the choice of objective decides which method "wins"; compare weight-level debiasing with today's group-threshold post-processing on one frontier; handle more than two groups; select a model with a stated confidence that its bias stays within a tolerance |
#
# ## Setting up a class
#
# Students need Python 3.11, two CPU cores and about 2 GB of disk. In a clone of the
# repository:
#
# ```bash
# make book   # installs into .venv, gets the data, executes every
#             # chapter, builds _build/html
# make test   # the same install, then the unit tests, every chapter
#             # under nbval, the book in a browser, the wheel
# ```
#
# The raw data (Adult, Bank Marketing, COMPAS) is downloaded on first use and checked
# against SHA-256 sums. For a classroom without internet access, put the three folders
# `adult/`, `bank/` and `compas/` on a shared drive and point `POSTHOC_DATA` at it; `make
# data` verifies them. The paper profile (`make book`, the default) reads the committed
# paper-scale results and networks, and builds the book in a few minutes; the quick profile
# (`make book PROFILE=quick`) computes every chapter at reduced scale in minutes on a laptop. A single chapter runs with
# papermill and any of its parameters, for example
#
# ```bash
# .venv/bin/papermill -p profile quick -p seeds "[0, 1, 2]" \
#     notebooks/need_for_networks.ipynb out.ipynb
# ```
#
# after `jupytext --to ipynb notebooks/need_for_networks.py`; a chapter refuses a parameter it
# does not have.

# %% tags=["parameters"]
# the profile this page is built with (its chapter times are listed
# first)
profile = "quick"

# %% tags=["hide-input"]
import pandas as pd

from posthoc.repro.book import chapter_times, exercises
from posthoc.repro.chapters import CHAPTERS
from posthoc.repro.parameters import resolve_notebook
from posthoc.repro.profiles import PROFILES
from posthoc.repro.tables import read_frames, reader_table

read_frames()  # every table below is formatted for reading
settings = resolve_notebook("teaching", globals())
# The chapters a class runs; this page cannot list its own time, recorded after it runs.
chapters = [c.name for c in CHAPTERS.values() if c.name not in ("intro", "teaching")]

# %% [markdown]
# ## How long each chapter takes
#
# Seconds to execute each chapter, as builds recorded them (`results/chapter_times.csv`,
# committed, and updated by every build): on a *fresh machine*, a build that started with no
# trained network cached, so the chapters train their networks, and on a *second run*, with
# the networks cached. Plan a class with the fresh machine's times. A blank is a
# combination no build has recorded yet. In the paper profile a chapter reads the committed
# results; computing them from scratch takes hours (see the reproducibility chapter's wall
# time).

# %% tags=["hide-input"]
order = [profile] + [p for p in PROFILES if p != profile]
times = chapter_times(order).reindex(chapters)
times.index.name = "chapter"
reader_table(times, digits=0)

# %% [markdown]
# ## Exercises by level
#
# Every chapter ends with two or three exercises whose solutions are hidden until opened;
# each runs in well under two minutes in the quick profile, and every solution is executed
# when the book is built and tested. *Beginner* exercises read the chapter's tables with
# pandas; *intermediate* ones call the library on the chapter's networks; *advanced* ones
# need a hypothesis about a model's behaviour and an experiment to test it.

# %% tags=["hide-input"]
listed = exercises()
listed["level"] = pd.Categorical(listed["level"], ["beginner", "intermediate", "advanced"])
reader_table(listed.sort_values(["level", "chapter"]), group="level",
             columns={"level": "level", "chapter": "chapter", "label": "label",
                      "exercise": "exercise"})
