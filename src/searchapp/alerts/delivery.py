"""Delivering an alert: e-mail over SMTP, or a webhook POST with a JSON body.

A delivery's ``send(notice)`` raises ``DeliveryError`` on any failure; the
caller keeps the alert and retries it at the next run. Settings come from the
caller (the password too: the CLI reads it from the environment, never this
module).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..errors import DeliveryError, SavedSearchError
from .text import shown

USER_AGENT = "searchapp-alerts"


class Delivery(Protocol):
    key: str  # identifies the channel in the outbox (no secrets)
    label: str  # shown to the user

    def send(self, notice: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class EmailDelivery:
    """Send alerts by e-mail through ``host:port``.

    :param starttls: upgrade the connection with STARTTLS (certificate checked)
        before logging in; when the server does not offer it, nothing is sent.
    :param user: log in as ``user`` with ``password`` (``None``: no login);
        without STARTTLS only to a server on this machine.
    """

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    timeout: float = 10.0

    @property
    def key(self) -> str:
        return "email:" + ",".join(self.recipients)

    @property
    def label(self) -> str:
        return "e-mail to " + ", ".join(self.recipients)

    def send(self, notice: dict[str, Any]) -> None:
        if self.user and not self.starttls and not _is_loopback(self.host):
            raise DeliveryError(self.label, f"{self.host}:{self.port}: the password would cross the "
                                            "network unencrypted; use STARTTLS")
        message = email_message(notice, self.sender, self.recipients)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as e:
            raise DeliveryError(self.label, f"{self.host}:{self.port}: {_reason(e)}") from e


@dataclass(frozen=True)
class WebhookDelivery:
    """POST each alert as JSON to ``url`` (http or https only; redirects are not followed)."""

    url: str
    timeout: float = 10.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SavedSearchError(f"a webhook URL must be http:// or https:// with a host, got {shown(self.url)}")

    @property
    def key(self) -> str:
        # The URL itself may hold a secret token: the outbox keeps a digest.
        return "webhook:" + hashlib.sha256(self.url.encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        parts = urlsplit(self.url)
        return f"webhook to {parts.scheme}://{parts.netloc.rpartition('@')[2]}"

    def send(self, notice: dict[str, Any]) -> None:
        body = json.dumps(notice).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT})
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                response.read(1024)
        except urllib.error.HTTPError as e:
            raise DeliveryError(self.label, f"the receiver answered HTTP {e.code}") from e
        except (urllib.error.URLError, OSError) as e:
            raise DeliveryError(self.label, _reason(e)) from e


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would turn the POST into a GET elsewhere: report it instead.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# No proxies from the environment (the core reads no environment); no redirects.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def email_message(notice: dict[str, Any], sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    """The e-mail of one alert: a one-line subject, the new reports as plain text."""
    saved = notice["saved_search"]
    message = EmailMessage()
    message["Subject"] = f"searchapp: {notice['new']} new for {shown(saved['name'])}"[:250]
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message.set_content(notice_text(notice), cte="quoted-printable")  # 7-bit: any server
    return message


def notice_text(notice: dict[str, Any]) -> str:
    """An alert as plain text, every value from reports or users made printable."""
    saved = notice["saved_search"]
    lines = [f"{notice['new']} new report(s) for the saved search {shown(saved['name'])}",
             f"query: {shown(saved['query'])}", ""]
    for hit in notice["hits"]:
        lines.append(f"{hit['date'] or 'undated'}  {shown(hit['source'])}  {shown(hit['title'])}")
        if hit.get("link"):
            lines.append(f"  {shown(hit['link'])}")
    if notice["new"] > len(notice["hits"]):
        lines.append(f"... and {notice['new'] - len(notice['hits'])} more")
    return "\n".join(lines) + "\n"


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _reason(e: BaseException) -> str:
    if isinstance(e, urllib.error.URLError) and not isinstance(e.reason, str):
        e = e.reason
    return str(e) or type(e).__name__
