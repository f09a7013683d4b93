"""What every request must pass before a page is made: a host name the server
serves, and a small body.

A server on a loopback address is still reachable from a browser through DNS
rebinding (a page on ``evil.example`` whose name then resolves to 127.0.0.1):
such requests carry the attacker's name in ``Host``, so only the names the
server serves are answered, like Django's ``ALLOWED_HOSTS``. The app takes GET
queries and small forms only, so request bodies are capped; waitress applies the
same cap before the app sees a byte (``server.py``).
"""

from __future__ import annotations

import re

from flask import Flask, current_app, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from ..config import Settings

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
ANY_ADDRESS = ("", "0.0.0.0", "::")
MAX_BODY_BYTES = 64 * 1024
_HOST = re.compile(r"(?:\[(?P<ipv6>[0-9a-f:.]+)\]|(?P<name>[^:\[\]]+))(?::\d{1,5})?")


def served_names(settings: Settings) -> tuple[str, ...]:
    """The host names answered: the loopback names, the listening address
    (unless it is every address), and the ``allowed_hosts`` setting."""
    own = () if settings.host in ANY_ADDRESS else (settings.host.lower(),)
    return tuple(dict.fromkeys(LOOPBACK_NAMES + own + tuple(settings.allowed_hosts)))


def host_name(header: str) -> str:
    """The name of a ``Host`` header, without port, brackets or final dot, in lower case.

    >>> host_name("[::1]:8000"), host_name("LocalHost.:80"), host_name("example.org")
    ('::1', 'localhost', 'example.org')
    >>> host_name("localhost:80@evil.example")
    'localhost:80@evil.example'
    """
    header = header.strip().lower()
    match = _HOST.fullmatch(header)
    if match is None:
        return header  # not a name and port: kept whole, so it matches no name
    return (match["ipv6"] or match["name"]).rstrip(".")


def is_served(header: str | None, names: tuple[str, ...]) -> bool:
    """Whether a ``Host`` header names the server: exactly one of ``names``, a
    subdomain of a name that starts with a dot, or anything when ``*`` is one."""
    if "*" in names:
        return True
    if not header:
        return False
    name = host_name(header)
    return any(name == n or (n.startswith(".") and (name.endswith(n) or name == n[1:])) for n in names)


def install(app: Flask, settings: Settings) -> None:
    """Check the host name and body size of every request, before routing's answer."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config["SEARCHAPP_SERVED_NAMES"] = served_names(settings)
    app.before_request(check_request)


def check_request() -> None:
    """:raises BadRequest: an unknown host name. :raises RequestEntityTooLarge: a body over the cap."""
    if not is_served(request.headers.get("Host"), current_app.config["SEARCHAPP_SERVED_NAMES"]):
        raise BadRequest("this server does not answer to that host name (see the allowed_hosts setting)")
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(f"the request body is too large: the limit is {limit} bytes")
