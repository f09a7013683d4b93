"""``searchapp alerts list|add|remove|run``: thin click commands over the
library functions of ``searchapp.alerts`` (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .alerts import AlertStore, EmailDelivery, WebhookDelivery, alerts_add, alerts_list, alerts_remove, alerts_run
from .alerts.index import check_search, current_marker, index_new_since
from .config import load_settings, option_help, smtp_password
from .search import SearchIndex

_INDEX = click.option("--index", "index_dir", type=click.Path(path_type=Path), help=option_help("index"))
_DB = click.option("--db", "alerts_db", type=click.Path(path_type=Path, dir_okay=False), help=option_help("alerts_db"))
_JSON = click.option("--json", "as_json", is_flag=True, help="print the answer as JSON")


def _echo(value, as_json: bool) -> None:
    click.echo(json.dumps(value.to_dict(), indent=2, ensure_ascii=False) if as_json else value.to_text(), nl=as_json)


@click.group()
def alerts() -> None:
    """Saved searches, and alerts of the reports indexed since the last run."""


@alerts.command("list")
@_INDEX
@_DB
@_JSON
def list_command(index_dir, alerts_db, as_json) -> None:
    """Every saved search, with the reports new since it was last looked at."""
    settings = load_settings(index=index_dir, alerts_db=alerts_db)
    store = AlertStore(settings.alerts_db)
    with SearchIndex.open(settings.index) as index:
        _echo(alerts_list(store, index_new_since(index), current_marker(index)), as_json)


@alerts.command("add")
@click.argument("name")
@click.argument("query", default="")
@click.option("--source", multiple=True, help="keep reports of this source (repeat for several)")
@click.option("--topic", multiple=True, help="keep reports with this topic (repeat for several)")
@click.option("--from", "date_from", help="first date, inclusive")
@click.option("--to", "date_to", help="last date, inclusive")
@_INDEX
@_DB
@_JSON
def add_command(name, query, source, topic, date_from, date_to, index_dir, alerts_db, as_json) -> None:
    """Save QUERY (with the filters) as NAME; alerts count from now on."""
    settings = load_settings(index=index_dir, alerts_db=alerts_db)
    store = AlertStore(settings.alerts_db)
    filters = {"source": list(source), "topic": list(topic), "date_from": date_from, "date_to": date_to}
    with SearchIndex.open(settings.index) as index:
        saved = alerts_add(store, name, query, filters, marker=current_marker(index), check=check_search(index))
    click.echo(json.dumps(saved.to_dict(), indent=2, ensure_ascii=False) if as_json else f"saved {saved.name!r}")


@alerts.command("remove")
@click.argument("name")
@_DB
def remove_command(name, alerts_db) -> None:
    """Remove the saved search NAME."""
    settings = load_settings(alerts_db=alerts_db)
    saved = alerts_remove(AlertStore(settings.alerts_db), name)
    click.echo(f"removed {saved.name!r}")


@alerts.command("run")
@_INDEX
@_DB
@_JSON
def run_command(index_dir, alerts_db, as_json) -> None:
    """Report, per saved search, the reports indexed since the previous run, and
    send them by e-mail and webhook when those are set (exit status 1 when a
    search or a delivery failed: the failed deliveries are tried again next run)."""
    settings = load_settings(index=index_dir, alerts_db=alerts_db)
    store = AlertStore(settings.alerts_db)
    with SearchIndex.open(settings.index) as index:
        report = alerts_run(store, index_new_since(index), current_marker(index), _deliveries(settings),
                            report_base_url=_reports_url(settings.base_url))
    _echo(report, as_json)
    if not report.ok:
        raise SystemExit(1)


def _deliveries(settings) -> list:
    out: list = []
    if settings.smtp_host:
        if not settings.smtp_sender or not settings.smtp_recipients:
            raise click.UsageError("alert e-mail needs the smtp_sender and smtp_recipients settings")
        out.append(EmailDelivery(settings.smtp_host, settings.smtp_port, settings.smtp_sender,
                                 settings.smtp_recipients, user=settings.smtp_user or None,
                                 password=smtp_password(), starttls=settings.smtp_starttls))
    if settings.webhook_url:
        out.append(WebhookDelivery(settings.webhook_url))
    return out


def _reports_url(base_url: str) -> str | None:
    return base_url.rstrip("/") + "/reports/" if base_url else None
