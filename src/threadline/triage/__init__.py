"""Triage: pure text -> annotations (relevance, category, sentiment, urgency, language, PII)
and the outbound personal-data guard. Imports no database, web or domain package."""

from threadline.triage.analyze import analyze
from threadline.triage.coordinates import Known
from threadline.triage.model import TriageModel, load_model, save_model
from threadline.triage.outbound import check_outbound
from threadline.triage.pii import detect_pii, mask
from threadline.triage.train import train
from threadline.triage.types import (
    CATEGORIES,
    PII_TYPES,
    RELEVANCES,
    SENTIMENTS,
    OutboundVerdict,
    PiiFinding,
    Reason,
    TrainReport,
    Triage,
)

__all__ = [
    "CATEGORIES",
    "PII_TYPES",
    "RELEVANCES",
    "SENTIMENTS",
    "Known",
    "OutboundVerdict",
    "PiiFinding",
    "Reason",
    "TrainReport",
    "Triage",
    "TriageModel",
    "analyze",
    "check_outbound",
    "detect_pii",
    "load_model",
    "mask",
    "save_model",
    "train",
]
