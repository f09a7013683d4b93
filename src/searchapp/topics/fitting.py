"""Fitting the learned model's topics: one linear SVM per topic, its threshold chosen by cross-validation.

The topics are fitted side by side in forked processes (:func:`_fit_all`);
the process-pool functions stay together here so that how child processes are
run can change in one place (issue 11).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import warnings

import numpy as np

MIN_CV_F1 = 0.5  # topics the model cannot predict this well in cross-validation are dropped
# Abstain when not confident (issue 13): a topic's threshold must give at least
# this precision in cross-validation; a topic that cannot is never predicted.
MIN_CV_PRECISION = 0.8
SVM_C = 1.0
CV_FOLDS = 3
THRESHOLDS = np.round(np.arange(-0.5, 1.001, 0.05), 2)

_FITTING: tuple = ()  # (X, targets) for forked fitting processes


def _fit_all(X, targets: list[np.ndarray], procs: int) -> list[tuple | None]:
    """Each topic's (coef, intercept, threshold), or None when it is not predictable enough."""
    global _FITTING
    procs = min(procs or os.cpu_count() or 1, len(targets))
    if procs < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [_fit_one(X, y) for y in targets]
    _FITTING = (X, targets)  # the forked processes inherit it: nothing is pickled but the results
    try:
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(procs, mp_context=context) as pool:
            return list(pool.map(_fit_forked, range(len(targets))))
    finally:
        _FITTING = ()


def _fit_forked(j: int):
    X, targets = _FITTING
    return _fit_one(X, targets[j])


def _fit_one(X, y: np.ndarray) -> tuple | None:
    threshold, f1 = _cv_threshold(X, y)
    if f1 < MIN_CV_F1:
        return None
    svm = _svm().fit(X, y)
    return svm.coef_.ravel().astype(np.float32), float(svm.intercept_[0]), threshold


def _svm():
    from sklearn.svm import LinearSVC

    return LinearSVC(C=SVM_C, random_state=0, max_iter=5000)


def _cv_threshold(X, y: np.ndarray) -> tuple[float, float]:
    """The decision threshold with the best cross-validated F1 among those whose
    precision reaches :data:`MIN_CV_PRECISION`, and that F1 (0: none does).

    The decision values of every report come from the fold that held it out
    (scikit-learn's ``cross_val_predict``); precision and F1 are worked out on
    all of them together at each threshold of :data:`THRESHOLDS`, and ties go
    to the threshold nearest 0.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    folds = min(CV_FOLDS, int(y.sum()), int((~y).sum()))
    if folds < 2:
        return 0.0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        held_out = cross_val_predict(_svm(), X, y, cv=StratifiedKFold(folds, shuffle=True, random_state=0),
                                     method="decision_function")
    predicted = held_out[None, :] > THRESHOLDS[:, None]
    tp = (predicted & y).sum(1)
    false_pos = (predicted & ~y).sum(1)
    f1 = 2 * tp / np.maximum(2 * tp + false_pos + (~predicted & y).sum(1), 1)
    f1[tp < MIN_CV_PRECISION * np.maximum(tp + false_pos, 1)] = 0.0
    best = np.nonzero(f1 == f1.max())[0]
    pick = min(best, key=lambda i: (abs(THRESHOLDS[i]), -THRESHOLDS[i]))  # the tie nearest 0
    return float(THRESHOLDS[pick]), float(f1[pick])
