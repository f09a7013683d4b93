"""``alerts run``: per saved search, the reports indexed since the previous run.

The index is reached through one callable the caller supplies::

    new_since(saved: SavedSearch, since: str | None, until: str) -> Sequence[Hit]

the reports matching ``saved`` (its query and filters) that were indexed after
marker ``since`` (``None``: ever) and up to marker ``until``, newest first.
Markers are opaque text from the index (a commit generation, a timestamp);
``until`` is read once before the run, so a report indexed during the run is
reported by the next one, never lost.

A run records the new marker and the pending deliveries in one transaction,
then tries every pending delivery of the configured channels (this run's and
the failures of earlier ones); a delivery is marked sent only once it went out.
Two overlapping runs (a slow cron job) record and send each alert once: the
marker moves only from the value the run read, and each attempt is claimed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..errors import DeliveryError, SearchAppError
from ..export import columns_for, hit_record
from ..feed import report_link
from ..results import Hit
from .delivery import Delivery
from .store import AlertStore, SavedSearch, utc_now
from .text import shown

NewSince = Callable[[SavedSearch, "str | None", str], Sequence[Hit]]
MAX_LISTED = 50


@dataclass(frozen=True)
class DeliveryOutcome:
    channel: str
    sent: bool
    attempts: int
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "sent": self.sent, "attempts": self.attempts, "error": self.error}


@dataclass(frozen=True)
class AlertOutcome:
    """One saved search in one run."""

    saved: SavedSearch
    new: int
    hits: tuple[Hit, ...]  # the first MAX_LISTED of the new reports
    error: str | None = None  # the search failed (a query that no longer parses): kept, retried
    deliveries: tuple[DeliveryOutcome, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.saved.name, "query": self.saved.query, "filters": dict(self.saved.filters),
                "new": self.new, "hits": [h.to_dict() for h in self.hits], "error": self.error,
                "deliveries": [d.to_dict() for d in self.deliveries]}


@dataclass(frozen=True)
class RunReport:
    marker: str
    alerts: tuple[AlertOutcome, ...]
    unconfigured: int = 0  # pending deliveries for channels this run was not given

    @property
    def ok(self) -> bool:
        """No search failed and every delivery went out (cron's exit status)."""
        return all(a.error is None and all(d.sent for d in a.deliveries) for a in self.alerts)

    def to_dict(self) -> dict[str, Any]:
        return {"marker": self.marker, "ok": self.ok, "unconfigured": self.unconfigured,
                "alerts": [a.to_dict() for a in self.alerts]}

    def to_text(self) -> str:
        lines: list[str] = []
        for alert in self.alerts:
            lines.append(f"{shown(alert.saved.name)}: " + (
                f"error: {shown(alert.error)}" if alert.error else f"{alert.new} new"))
            for hit in alert.hits:
                lines.append(f"  {hit.date or 'undated'}  {shown(hit.source)}  {shown(hit.title)}  [{shown(hit.id)}]")
            if alert.new > len(alert.hits):
                lines.append(f"  ... and {alert.new - len(alert.hits)} more")
            for d in alert.deliveries:
                state = "sent" if d.sent else f"not sent, retried at the next run: {shown(d.error or '')}"
                lines.append(f"  {shown(d.channel)}: {state}")
        if not self.alerts:
            lines.append("no saved searches")
        if self.unconfigured:
            lines.append(f"{self.unconfigured} alert(s) wait for a delivery channel this run was not given")
        return "\n".join(lines) + "\n"


def run_alerts(store: AlertStore, new_since: NewSince, marker: str, deliveries: Sequence[Delivery] = (),
               *, report_base_url: str | None = None, max_listed: int = MAX_LISTED) -> RunReport:
    """Run every saved search for what is new since its last run, then deliver.

    :param marker: the index's current marker, read before calling.
    :param deliveries: the channels to send alerts by (none: only the report).
    :param report_base_url: the prefix of report pages, for the links in alerts.
    :raises AlertStoreError: the database cannot be used.
    """
    outcomes: list[AlertOutcome] = []
    for saved in store.list():
        try:
            hits = new_since(saved, saved.run_marker, marker)
        except SearchAppError as e:
            outcomes.append(AlertOutcome(saved, 0, (), error=str(e)))
            continue
        notice = make_notice(saved, hits, report_base_url, max_listed)
        store.advance(saved, marker, {d.key: notice for d in deliveries} if hits else {})
        outcomes.append(AlertOutcome(saved, len(hits), tuple(hits[:max_listed])))
    sent, unconfigured = deliver_pending(store, deliveries)
    outcomes = [_with(o, sent.get(o.saved.id, ())) for o in outcomes]
    return RunReport(marker, tuple(outcomes), unconfigured)


def make_notice(saved: SavedSearch, hits: Sequence[Hit], report_base_url: str | None,
                max_listed: int = MAX_LISTED) -> dict[str, Any]:
    """The JSON body of one alert (the webhook's body; the e-mail is written from it)."""
    listed = []
    for hit in hits[:max_listed]:
        record = hit_record(hit, columns_for(hit))
        record["link"] = report_link(report_base_url, hit.id) if report_base_url else None
        listed.append(record)
    return {"saved_search": {"name": saved.name, "query": saved.query, "filters": dict(saved.filters)},
            "new": len(hits), "hits": listed, "created": utc_now()}


def deliver_pending(store: AlertStore, deliveries: Sequence[Delivery]
                    ) -> tuple[dict[int, tuple[DeliveryOutcome, ...]], int]:
    """Try every pending delivery of the given channels; the outcomes by saved
    search id, and how many wait for channels not given."""
    by_key = {d.key: d for d in deliveries}
    outcomes: dict[int, list[DeliveryOutcome]] = {}
    unconfigured = 0
    for item in store.pending():
        channel = by_key.get(item.channel)
        if channel is None:
            unconfigured += 1
            continue
        if not store.claim(item):
            continue  # an overlapping run is sending it
        try:
            channel.send(item.payload)
            error = None
        except DeliveryError as e:
            error = str(e)
        store.delivered(item.id, error)
        outcomes.setdefault(item.saved_id, []).append(
            DeliveryOutcome(channel.label, error is None, item.attempts + 1, error))
    return {k: tuple(v) for k, v in outcomes.items()}, unconfigured


def _with(outcome: AlertOutcome, deliveries: tuple[DeliveryOutcome, ...]) -> AlertOutcome:
    return AlertOutcome(outcome.saved, outcome.new, outcome.hits, outcome.error, deliveries)
