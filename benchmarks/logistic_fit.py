"""Fitting a :class:`bot.core.logistic.LogisticModel` with scikit-learn (benchmarks only: serving reads the JSON)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

from bot.core.logistic import LogisticModel

Model = TypeVar("Model", bound=LogisticModel)


def fit_logistic(
    model_type: type[Model],
    x: np.ndarray,
    y: np.ndarray,
    *,
    name: str,
    features: Sequence[str],
    trained_on: str,
    regularisation_c: float,
    **fit_options: Any,
) -> Model:
    """Standardise ``x``, fit an L2 logistic regression and store it as ``model_type`` (threshold 0.5).

    ``fit_options``: ``class_weight`` for the estimator, ``sample_weight`` for the fit.
    """
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    sample_weight = fit_options.pop("sample_weight", None)
    estimator = LogisticRegression(C=regularisation_c, max_iter=5000, **fit_options)
    estimator.fit((x - mean) / scale, y, sample_weight=sample_weight)
    return model_type(
        name=name,
        features=tuple(features),
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        coef=tuple(float(v) for v in estimator.coef_[0]),
        intercept=float(estimator.intercept_[0]),
        threshold=0.5,
        trained_on=trained_on,
    )
