"""A small logistic model stored as JSON: the learned combiners of the verification checks.

Support (``bot/verify/support_model.json``) and answerability (``bot/verify/answerability_model.json``)
are each a logistic regression over a few named features, fitted by a benchmark script and
shipped as data, so serving needs neither scikit-learn nor a model download.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class LogisticModel(BaseModel):
    """Standardised features, coefficients, intercept and the decision threshold (schema-checked on load).

    A subclass names the features it knows (``known_features``), a file asking for another is
    refused, and the file it ships (``default_file``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    known_features: ClassVar[frozenset[str]] = frozenset()
    default_file: ClassVar[Path | None] = None

    name: str
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float = Field(ge=0.0, le=1.0)
    trained_on: str

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        n = len(self.features)
        if not (len(self.mean) == len(self.scale) == len(self.coef) == n):
            raise ValueError("features, mean, scale and coef must have the same length")
        unknown = set(self.features) - self.known_features
        if self.known_features and unknown:
            raise ValueError(f"unknown features: {sorted(unknown)}")
        return self

    @classmethod
    def load(cls, path: Path | None = None) -> Self:
        """The model in ``path``, or the shipped one."""
        path = path or cls.default_file
        if path is None:
            raise ValueError(f"{cls.__name__} has no shipped file: give a path")
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))

    def probability(self, features: Mapping[str, float]) -> float:
        """P(positive class) for one row of ``features`` (every name in :attr:`features` must be there)."""
        z = self.intercept
        for name, mean, scale, coef in zip(self.features, self.mean, self.scale, self.coef, strict=True):
            z += coef * (features[name] - mean) / (scale or 1.0)
        return 1.0 / (1.0 + math.exp(-max(-500.0, min(500.0, z))))

    def decides(self, features: Mapping[str, float]) -> bool:
        """Whether ``features`` are on the positive side of the shipped threshold."""
        return self.probability(features) >= self.threshold
