"""``rigcheck recommend``: the exact best build for a budget and target workloads (pure)."""

from rigcheck.recommend.search import (
    Build,
    Estimator,
    Recommendation,
    Request,
    TargetEstimate,
    recommend,
)

__all__ = ["Build", "Estimator", "Recommendation", "Request", "TargetEstimate", "recommend"]
