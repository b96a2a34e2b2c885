"""Temperature scaling, expected calibration error and the uncertainty threshold on synthetic
probabilities whose true calibration is known."""
import numpy as np
import pytest

from ml import inference
from ml.calibration import TemperatureScaling, cross_fitted, ece, uncertain_threshold


def overconfident(n=3000, k=8, temperature=2.0, seed=0):
    """Probabilities that are calibrated at `temperature`, sharpened by it (logits * T), and
    labels drawn from the calibrated ones."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 1.5, (n, k))
    calibrated = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    truth = np.array([rng.choice(k, p=p) for p in calibrated])
    sharp = np.exp(logits * temperature)
    return sharp / sharp.sum(axis=1, keepdims=True), calibrated, truth


def test_temperature_scaling_recovers_the_temperature_and_keeps_the_ranking():
    sharp, calibrated, truth = overconfident()
    scaler = TemperatureScaling().fit(sharp, truth)
    assert scaler.temperature_ == pytest.approx(2.0, rel=0.1)
    fixed = scaler.predict_proba(sharp)
    assert ece(sharp, truth) > 0.1 and ece(fixed, truth) < 0.03
    assert (fixed.argmax(axis=1) == sharp.argmax(axis=1)).all()
    np.testing.assert_allclose(fixed.sum(axis=1), 1)
    np.testing.assert_allclose(inference.calibrate(scaler.form(), sharp), fixed)


def test_labels_are_mapped_through_classes():
    sharp, _, truth = overconfident(n=500)
    names = np.array(list("abcdefgh"))
    by_name = TemperatureScaling(classes=list(names)).fit(sharp, names[truth])
    assert by_name.temperature_ == pytest.approx(TemperatureScaling().fit(sharp, truth)
                                                 .temperature_)
    assert list(by_name.predict(sharp[:5])) == list(names[sharp[:5].argmax(axis=1)])


def test_ece_of_perfectly_calibrated_and_of_always_sure():
    rng = np.random.default_rng(1)
    top = rng.uniform(0.5, 1.0, 20000)
    proba = np.column_stack([top, 1 - top])
    truth = (rng.uniform(size=len(top)) > top).astype(int)   # right with probability top
    assert ece(proba, truth) < 0.01
    sure = np.tile([1.0, 0.0], (100, 1))
    assert ece(sure, np.r_[np.zeros(70, int), np.ones(30, int)]) == pytest.approx(0.3)


def test_cross_fitting_never_uses_a_rows_own_group():
    sharp, _, truth = overconfident(n=900)
    groups = np.repeat([0, 1, 2], 300)
    out = cross_fitted(sharp, truth, groups)
    alone = TemperatureScaling().fit(sharp[300:], truth[300:]).predict_proba(sharp[:300])
    np.testing.assert_allclose(out[:300], alone)


def test_uncertain_threshold_is_where_answers_become_more_likely_right():
    """Answers right 7 points less often than their probability says: those under 0.6 are
    right less than half of the time (0.5-0.6: ~48%), those from 0.6 on more (~53%)."""
    rng = np.random.default_rng(2)
    top = rng.uniform(0.34, 1.0, 60000)
    proba = np.column_stack([top, (1 - top) / 2, (1 - top) / 2])
    truth = np.where(rng.uniform(size=len(top)) < top - 0.07, 0, rng.integers(1, 3, len(top)))
    assert uncertain_threshold(proba, truth) == pytest.approx(0.6)
    assert uncertain_threshold(np.tile([0.9, 0.1], (10, 1)), np.zeros(10, int)) == 0.3
