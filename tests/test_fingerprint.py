"""posthoc.repro.fingerprint and posthoc.repro.identity: the code is in a cell's key, a cell
of other code is refused or recomputed, and the identity check re-keys only what it shows
identical."""

from __future__ import annotations

import pandas as pd
import pytest

from posthoc.repro.fingerprint import (StaleCode, code_files, code_fingerprint,
                                       working_tree_reader)
from posthoc.repro.identity import identity_check, mixed_cells, with_code
from posthoc.repro.study import (ResultStore, Settings, cell_id, cell_key, grid,
                                 identifier_of, run_grid)

SETTINGS = Settings(max_epochs=2, method_options={"random": {"trials": 5}})


def _edited(path: str, old: str, new: str):
    def read(name: str):
        text = working_tree_reader(name)
        if name == path:
            assert text is not None and old in text
            return text.replace(old, new, 1)
        return text
    return read


def test_a_fingerprint_follows_code_not_comments_and_only_the_methods_own_modules():
    files = code_files("layerwise")
    assert {"posthoc/methods/layerwise.py", "posthoc/methods/gbrt.py", "posthoc/metrics.py",
            "posthoc/training.py"} <= set(files)
    assert "posthoc/methods/random.py" not in files
    assert not any(path.startswith("posthoc/repro/") for path in files)
    random = code_fingerprint("random")
    docstring = _edited("posthoc/methods/random.py", '"""', '"""Reworded. ')
    assert code_fingerprint("random", docstring) == random
    comment = _edited("posthoc/methods/random.py", "\n", "\n# a comment\n")
    assert code_fingerprint("random", comment) == random
    code = _edited("posthoc/methods/random.py", "return", "return  (")
    code = _edited("posthoc/metrics.py", "def ", "X_ADDED = 1\n\n\ndef ")
    assert code_fingerprint("random", code) != random
    other = _edited("posthoc/methods/baselines.py", "def ", "X_ADDED = 1\n\n\ndef ")
    assert code_fingerprint("random", other) == random
    assert code_fingerprint("roc", other) != code_fingerprint("roc")


def _store_by_other_code(tmp_path, data_dir):
    cells = grid(configs=["compas-race"], seeds=[0, 1], measures=["spd"],
                 methods=["default", "random"])
    store = ResultStore(tmp_path / "results")
    rows = run_grid(cells, SETTINGS, store, progress=False, data_dir=data_dir)
    # As if earlier code had computed them: another fingerprint, so another id; the commit
    # that computed them is this checkout's (HEAD's code, in a work tree of it).
    rows = rows.assign(code="0ldc0de00000", commit="HEAD",
                       cell_id=[identifier_of(k, "0ldc0de00000") for k in rows["cell_key"]])
    store.rewrite(rows)
    return cells, store, rows


def test_a_cell_of_other_code_is_refused_or_recomputed_and_the_check_rekeys_it(tmp_path,
                                                                               data_dir):
    cells, store, stored = _store_by_other_code(tmp_path, data_dir)
    assert all(cell_id(c, SETTINGS) != i for c, i in zip(cells, stored["cell_id"]))
    with pytest.raises(StaleCode, match=r"4 cell\(s\) this run needs were computed by other "
                                        r"code .*python -m posthoc.repro.identity"):
        run_grid(cells, SETTINGS, store, progress=False, data_dir=data_dir, stale="refuse")
    # The commit's code and this checkout's compute the same rows here: every cell re-keyed.
    report = identity_check(store, per_group=1, data_dir=data_dir)
    assert report["sampled"].tolist() == [1, 1] and report["rekeyed"].tolist() == [2, 2]
    rows = store.load()
    assert set(rows["cell_id"]) == {cell_id(c, SETTINGS) for c in cells}
    assert rows["code_check"].str.contains("computed here by HEAD and by .*, identical").all()
    again = run_grid(cells, SETTINGS, store, progress=False, data_dir=data_dir, stale="refuse")
    assert len(again) == 4


def test_the_check_keeps_cells_whose_code_computes_otherwise(tmp_path, data_dir, monkeypatch):
    import posthoc.repro.identity as identity

    cells, store, stored = _store_by_other_code(tmp_path, data_dir)
    honest = identity.compute_at
    monkeypatch.setattr(identity, "compute_at", lambda commit, rows: honest(commit, rows).assign(
        test_accuracy=lambda t: t["test_accuracy"] + 1e-12))
    report = identity_check(store, per_group=2, data_dir=data_dir)
    assert (report["rekeyed"] == 0).all() and (report["differs_in"] == "test_accuracy").all()
    assert set(store.load()["code"]) == {"0ldc0de00000"}


def test_cells_of_minority_code_in_a_group_are_found():
    rows = pd.DataFrame({"objective": "weighted", "epsilon": float("nan"), "lam": 0.75,
                         "max_epochs": 1001, "labels": "aif360", "method_options": "{}",
                         "config": "adult-sex", "arch": "default", "measure": "spd",
                         "method": "roc", "seed": range(4), "cell_id": list("abcd"),
                         "commit": "x", "code": ["new", "new", "old", "new"]})
    assert mixed_cells(rows)["cell_id"].tolist() == ["c"]
    assert with_code(rows.drop(columns="code").assign(code=None, commit="85ede17"))[
        "cell_key"].tolist() == list("abcd")
    assert cell_key is not None
