"""The modern post-processing baselines against the libraries they come from: fairlearn's
ThresholdOptimizer and OxonFair's FairPredictor, predictions identical after saving."""

from __future__ import annotations

import numpy as np
import pytest

import posthoc
from posthoc import debias
from posthoc.methods.fairpredictor import logits
from posthoc.methods.thresholdopt import CONSTRAINTS, _Scores


def _scores(net, split):
    return posthoc.methods.scores_of(net, split.X).astype(np.float64)


@pytest.mark.parametrize("measure", ["spd", "eod", "aod"])
def test_threshold_optimizer_predicts_as_fairlearn_does(problem, measure, tmp_path):
    from fairlearn.postprocessing import ThresholdOptimizer

    net, valid, test = problem
    result = debias(net, valid, "thresholdopt", measure=measure, seed=7)
    optimizer = ThresholdOptimizer(estimator=_Scores(), constraints=CONSTRAINTS[measure],
                                   prefit=True, predict_method="predict_proba")
    optimizer.fit(_scores(net, valid).reshape(-1, 1), valid.y, sensitive_features=valid.a)
    direct = optimizer.predict(_scores(net, test).reshape(-1, 1), sensitive_features=test.a,
                               random_state=7)
    assert np.array_equal(result.predict(test.X, test.a), direct)
    loaded = posthoc.load_result(result.save(tmp_path / "t.zip"))
    assert np.array_equal(loaded.predict(test.X, test.a), direct)


@pytest.mark.parametrize("measure, metric", [("spd", "demographic_parity"),
                                             ("eod", "equal_opportunity")])
def test_fair_predictor_predicts_as_oxonfair_does(problem, measure, metric, tmp_path):
    import oxonfair.utils.group_metrics as gm
    from oxonfair import DeepFairPredictor
    from oxonfair.learners.fair import DeepDataDict

    net, valid, test = problem
    result = debias(net, valid, "fairpredictor", measure=measure, tolerance=0.03)
    predictor = DeepFairPredictor(valid.y, logits(_scores(net, valid)).reshape(-1, 1), valid.a,
                                  use_actual_groups=True)
    predictor.fit(gm.accuracy, getattr(gm, metric), 0.03)
    direct = predictor.predict(DeepDataDict(test.y, logits(_scores(net, test)).reshape(-1, 1),
                                            test.a))
    assert np.array_equal(result.predict(test.X, test.a), np.asarray(direct))
    loaded = posthoc.load_result(result.save(tmp_path / "f.zip"))
    assert np.array_equal(loaded.predict(test.X, test.a), np.asarray(direct))


@pytest.mark.parametrize("method", ["thresholdopt", "fairpredictor"])
def test_the_modern_baselines_work_with_more_than_two_groups(problem, method):
    net, valid, test = problem
    three = lambda split: posthoc.Split(split.X, split.y,                     # noqa: E731
                                        (split.a + (split.X[:, 1] > 0.5)).astype(np.int64))
    result = debias(net, three(valid), method, measure="spd")
    predictions = result.predict(test.X, three(test).a)
    assert set(np.unique(predictions)) <= {0, 1} and len(predictions) == len(test)
    with pytest.raises(ValueError, match="was not fitted on|fitted on"):
        result.predict(test.X, np.full(len(test), 5))
