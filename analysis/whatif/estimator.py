"""A scikit-learn view of any model: :class:`ModelEstimator` wraps a ``probabilities(x)`` function.

scikit-learn's ``partial_dependence`` needs a fitted classifier with ``predict_proba``; a Keras
model is neither. ``fit`` does nothing (the model is trained already) except set ``classes_``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

Probabilities = Callable[[np.ndarray], np.ndarray]  # float32 [n, features] -> float64 [n, classes]


class ModelEstimator(ClassifierMixin, BaseEstimator):
    """A prefit classifier: ``predict_proba(X) = probabilities(X)``; ``n_classes`` columns."""

    def __init__(self, probabilities: Probabilities | None = None, n_classes: int = 2) -> None:
        self.probabilities = probabilities
        self.n_classes = n_classes

    def fit(self, X: Any = None, y: Any = None) -> ModelEstimator:
        self.classes_ = np.arange(self.n_classes)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(self.probabilities(np.asarray(X, dtype=np.float32)), dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        return np.argmax(self.predict_proba(X), axis=1)
