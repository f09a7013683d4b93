"""Saved searches and alerts (issue 14): a SQLite store beside the settings,
``alerts list|add|remove|run`` as library functions, delivery by e-mail or webhook."""

from .commands import Listing, alerts_add, alerts_list, alerts_remove, alerts_run, describe
from .delivery import EmailDelivery, WebhookDelivery
from .run import AlertOutcome, DeliveryOutcome, NewSince, RunReport, run_alerts
from .store import SCHEMA_VERSION, AlertStore, SavedSearch

__all__ = [
    "SCHEMA_VERSION", "AlertOutcome", "AlertStore", "DeliveryOutcome", "EmailDelivery", "Listing",
    "NewSince", "RunReport", "SavedSearch", "WebhookDelivery", "alerts_add", "alerts_list",
    "alerts_remove", "alerts_run", "describe", "run_alerts",
]
