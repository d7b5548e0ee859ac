"""Re-executing a chapter in one command: parameters parsed and checked before anything runs,
a bad one named in one line."""

from __future__ import annotations

import pytest

from posthoc.repro.chapters import CHAPTERS
from posthoc.repro.run_chapter import check, main, parameters_of


def test_parameters_from_pairs_and_yaml():
    parameters = parameters_of([["lam", "0.5"], ["method", "roc"], ["seed", "3"]],
                               ["configs: [compas-race]", "epsilons: [0.1, 0.2]"])
    assert parameters == {"lam": 0.5, "method": "roc", "seed": 3, "configs": ["compas-race"],
                          "epsilons": [0.1, 0.2]}


#: One bad value per chapter, and the words its one-line error must hold.
BAD = {
    "intro": ({"lam": 0.5}, "Parameter lam=0.5 is not allowed; expected one of the chapter's"),
    "need_for_networks": ({"configs": ["nope"]}, "Parameter configs=['nope'] is not allowed"),
    "sensitivity": ({"n_deltas": 5},
                    "Parameter n_deltas=5 is not allowed; expected an integer >= 10 "),
    "main_comparison": ({"lam": 2}, "Parameter lam=2 is not allowed; expected a number in [0, 1]"),
    "ablations": ({"configs": ["compas-race"]}, "drawn from adult-sex, bank-age"),
    "beyond": ({"epsilon": 1.5}, "Parameter epsilon=1.5 is not allowed; expected a number in"),
    "reproducibility": ({"n_boot": -1}, "Parameter n_boot=-1 is not allowed"),
    "own_model": ({"measure": "xyz"}, "Parameter measure='xyz' is not allowed; expected one of"),
    "teaching": ({"seeds": [0]}, "Parameter seeds=[0] is not allowed"),
}


def test_every_chapter_has_a_bad_value_case():
    assert set(BAD) == set(CHAPTERS)


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_value_is_one_line_before_anything_runs(name, capsys):
    parameters, words = BAD[name]
    with pytest.raises(ValueError, match=None) as caught:
        check(name, "quick", parameters)
    assert words in str(caught.value)
    yaml = ", ".join(f"{k}: {v!r}" for k, v in parameters.items())
    with pytest.raises(SystemExit) as stopped:
        main([name, "-y", "{" + yaml.replace("'", '"') + "}"])
    assert stopped.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and words in error


@pytest.mark.parametrize("argv, words", [
    (["nowhere"], "chapter='nowhere' is not a chapter of the book"),
    (["main_comparison", "--profile", "fast"], "Parameter profile='fast' is not allowed"),
    (["main_comparison", "-y", "[1, 2]"], "expected a mapping of parameter names"),
    (["main_comparison", "-y", "configs: [a"], "is not YAML"),
])
def test_a_bad_chapter_profile_or_yaml_is_one_line(argv, words, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and words in error
