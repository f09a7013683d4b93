"""CSAF 2.0 security advisories (``.json`` with ``document.csaf_version``).

Read: ``document.title``; ``document.tracking.initial_release_date`` (the
date) and ``current_release_date`` (``updated``); ``document.publisher.name``
(the source); the CVE ids of ``vulnerabilities`` (``extra["cves"]``); and as
body the document notes (legal disclaimers left out), each vulnerability's
title, CVE, notes and remediation details. ``document.tracking.id`` goes to
``extra["tracking_id"]``, ``document.references`` with ``category: self`` to
the URL.
"""

from __future__ import annotations

import json
from typing import Any

from searchapp.corpus.files import MAX_FILE_BYTES, CorpusFile, decode_text, read_bytes
from searchapp.corpus.jsonl import MAX_DEPTH, _too_deep
from searchapp.corpus.meta import Parsed
from searchapp.errors import CorpusError

__all__ = ["extract_csaf", "read_csaf"]

_SKIPPED_NOTES = frozenset({"legal_disclaimer"})


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _notes(notes: Any) -> list[str]:
    out = []
    for note in map(_dict, _list(notes)):
        text = _str(note.get("text"))
        if text and note.get("category") not in _SKIPPED_NOTES:
            title = _str(note.get("title"))
            out.append(f"{title}\n{text}" if title else text)
    return out


def _vulnerability(vuln: dict[str, Any]) -> list[str]:
    head = " ".join(t for t in (_str(vuln.get("cve")), _str(vuln.get("title"))) if t)
    parts = [head] if head else []
    parts += _notes(vuln.get("notes"))
    parts += [d for d in (_str(_dict(r).get("details")) for r in _list(vuln.get("remediations"))) if d]
    return parts


def _load(data: bytes, relpath: str) -> dict[str, Any]:
    try:
        value = json.loads(decode_text(data, relpath))
    except RecursionError:
        raise CorpusError(relpath, f"JSON nested too deeply (limit {MAX_DEPTH} levels)") from None
    except json.JSONDecodeError as e:
        raise CorpusError(relpath, f"invalid JSON: {e.msg} (line {e.lineno}, column {e.colno})") from e
    if _too_deep(value):
        raise CorpusError(relpath, f"JSON nested too deeply (limit {MAX_DEPTH} levels)")
    version = _dict(_dict(value).get("document")).get("csaf_version")
    if not isinstance(version, str):
        raise CorpusError(relpath, "a JSON file that is not a CSAF advisory (no document.csaf_version); "
                                   "other JSON reports go in .jsonl files, one object per line")
    if not version.startswith("2."):
        raise CorpusError(relpath, f"CSAF version {version} is not supported (expected 2.0)")
    return value


def read_csaf(data: bytes, relpath: str) -> Parsed:
    """Read one advisory's fields from its bytes.

    :raises CorpusError: invalid JSON, nested too deeply, not CSAF 2.x.
    """
    value = _load(data, relpath)
    document = _dict(value["document"])
    tracking = _dict(document.get("tracking"))
    vulns = [_dict(v) for v in _list(value.get("vulnerabilities"))]
    cves = list(dict.fromkeys(c for c in (_str(v.get("cve")) for v in vulns) if c))
    body = _notes(document.get("notes"))
    for vuln in vulns:
        body += _vulnerability(vuln)
    parsed = Parsed(body="\n\n".join(body), format="csaf", headers_read=True,
                    title=_str(document.get("title")), source=_str(_dict(document.get("publisher")).get("name")))
    language = _str(document.get("lang"))
    parsed.take("language", language.split("-")[0].lower() if language else None)
    parsed.take("date", _str(tracking.get("initial_release_date")))
    parsed.take("updated", _str(tracking.get("current_release_date")))
    self_refs = [_dict(r) for r in _list(document.get("references")) if _dict(r).get("category") == "self"]
    parsed.take("url", _str(self_refs[0].get("url")) if self_refs else None)
    parsed.extra.update({"tracking_id": _str(tracking.get("id")), "cves": cves,
                         "csaf_version": document["csaf_version"]})
    return parsed


def extract_csaf(cf: CorpusFile) -> Parsed:
    """Extract one CSAF advisory file.

    :raises CorpusError: see :func:`read_csaf`, and for unreadable files.
    """
    return read_csaf(read_bytes(cf, MAX_FILE_BYTES), cf.relpath)
