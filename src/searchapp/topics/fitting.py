"""Fitting the learned model's topics: one linear SVM per topic, its threshold chosen by cross-validation.

The topics are fitted side by side in forked processes (:func:`_fit_all`);
the process-pool functions stay together here so that how child processes are
run can change in one place (issue 11).
"""

from __future__ import annotations

import multiprocessing
import os
import warnings

import numpy as np

from .. import processes

MIN_CV_F1 = 0.5  # topics the model cannot predict this well in cross-validation are dropped
# Abstain when not confident (issue 13): a topic's threshold must give at least
# this precision in cross-validation; a topic that cannot is never predicted.
MIN_CV_PRECISION = 0.8
SVM_C = 1.0
CV_FOLDS = 3
THRESHOLDS = np.round(np.arange(-1.0, 1.001, 0.05), 2)

_FITTING: tuple = ()  # (X, targets) for forked fitting processes


def _fit_all(X, targets: list[np.ndarray], procs: int) -> list[tuple | None]:
    """Each topic's (coef, intercept, threshold), or None when it is not predictable enough."""
    global _FITTING
    procs = min(procs or os.cpu_count() or 1, len(targets))
    if procs < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [_fit_one(X, y) for y in targets]
    _FITTING = (X, targets)  # the forked processes inherit it: nothing is pickled but the results
    try:  # children that close the reindex lock and die with the reindex (processes.py)
        return processes.map_items(_fit_forked, len(targets), procs, name="topic-fitting process")
    finally:
        _FITTING = ()


def _fit_forked(j: int):
    X, targets = _FITTING
    return _fit_one(X, targets[j])


def _fit_one(X, y: np.ndarray) -> tuple | None:
    """One topic's (coef, intercept, threshold): the mean of its cross-validation folds'
    SVMs, at the threshold chosen on those folds' held-out decision values."""
    fitted = _cv_fit(X, y)
    if fitted is None:
        return None
    coef, intercept, held_out = fitted
    threshold, f1 = _best_threshold(held_out, y)
    if f1 < MIN_CV_F1:
        return None
    return coef.astype(np.float32), intercept, threshold


def _svm():
    from sklearn.svm import LinearSVC

    return LinearSVC(C=SVM_C, random_state=0, max_iter=5000)


def _cv_fit(X, y: np.ndarray) -> tuple[np.ndarray, float, np.ndarray] | None:
    """The mean coefficients and intercept of the folds' SVMs (scikit-learn's
    ``cross_validate``) and each report's decision value from the fold that held it
    out; None when a topic has too few reports for two folds.

    The mean of the folds' models is what tags, so the threshold is chosen on
    decision values of models like it: a model refitted on every report gives
    larger values on new reports than the folds did, and tagged more than the
    folds' precision promised (CISA advisories: 0.79 instead of 0.8).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import StratifiedKFold, cross_validate

    folds = min(CV_FOLDS, int(y.sum()), int((~y).sum()))
    if folds < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cv = cross_validate(_svm(), X, y, cv=StratifiedKFold(folds, shuffle=True, random_state=0),
                            scoring=None, return_estimator=True, return_indices=True)
    held_out = np.empty(len(y))
    for svm, test in zip(cv["estimator"], cv["indices"]["test"]):
        held_out[test] = svm.decision_function(X[test])
    coef = np.mean([svm.coef_.ravel() for svm in cv["estimator"]], axis=0)
    intercept = float(np.mean([svm.intercept_[0] for svm in cv["estimator"]]))
    return coef, intercept, held_out


def _best_threshold(held_out: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The decision threshold with the best F1 among those whose precision reaches
    :data:`MIN_CV_PRECISION`, and that F1 (0: none does); ties go to the threshold nearest 0."""
    predicted = held_out[None, :] > THRESHOLDS[:, None]
    tp = (predicted & y).sum(1)
    false_pos = (predicted & ~y).sum(1)
    f1 = 2 * tp / np.maximum(2 * tp + false_pos + (~predicted & y).sum(1), 1)
    f1[tp < MIN_CV_PRECISION * np.maximum(tp + false_pos, 1)] = 0.0
    best = np.nonzero(f1 == f1.max())[0]
    pick = min(best, key=lambda i: (abs(THRESHOLDS[i]), -THRESHOLDS[i]))  # the tie nearest 0
    return float(THRESHOLDS[pick]), float(f1[pick])

