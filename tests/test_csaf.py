"""CSAF 2.0 advisories (searchapp.corpus.csaf)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.make_files import parse_files

ADVISORY = {
    "document": {
        "csaf_version": "2.0", "lang": "en-US", "title": "Acme PLC Controllers",
        "publisher": {"name": "CISA", "category": "coordinator"},
        "tracking": {"id": "ICSA-24-001-01", "initial_release_date": "2024-01-02T00:00:00.000000Z",
                     "current_release_date": "2024-02-03T10:00:00Z"},
        "notes": [{"category": "summary", "title": "Risk evaluation", "text": "Remote code execution is possible."},
                  {"category": "legal_disclaimer", "text": "Provided as is."}],
        "references": [{"category": "self", "url": "https://www.cisa.gov/icsa-24-001-01"}],
    },
    "vulnerabilities": [
        {"cve": "CVE-2024-0001", "title": "Buffer overflow",
         "notes": [{"category": "description", "text": "A crafted packet overflows a buffer."}],
         "remediations": [{"category": "vendor_fix", "details": "Update the firmware to 2.1."}]},
        {"cve": "CVE-2024-0002", "remediations": [{"details": "Block port 502."}]},
    ],
}


def parse(folder: Path, name: str, data) -> list:
    return parse_files(folder, {name: data})


def test_advisory_fields(tmp_path: Path) -> None:
    (report,) = parse(tmp_path, "icsa-24-001-01.json", json.dumps(ADVISORY))
    assert (report.title, report.source, report.date, report.updated) == (
        "Acme PLC Controllers", "CISA", dt.date(2024, 1, 2), dt.date(2024, 2, 3))
    assert report.extra["cves"] == ["CVE-2024-0001", "CVE-2024-0002"] and report.extra["tracking_id"] == "ICSA-24-001-01"
    assert (report.url, report.language, report.format) == ("https://www.cisa.gov/icsa-24-001-01", "en", "csaf")
    assert report.body == ("Risk evaluation\nRemote code execution is possible.\n\nCVE-2024-0001 Buffer overflow\n\n"
                           "A crafted packet overflows a buffer.\n\nUpdate the firmware to 2.1.\n\nCVE-2024-0002\n\nBlock port 502.")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"feed": {}}', "a JSON file that is not a CSAF advisory (no document.csaf_version); "
                         "other JSON reports go in .jsonl files, one object per line"),
        ('{"document": {"csaf_version": "1.2"}}', "CSAF version 1.2 is not supported (expected 2.0)"),
        ('{"document": ', "invalid JSON: Expecting value (line 1, column 14)"),
        ("[" * 5000 + "]" * 5000, "JSON nested too deeply (limit 64 levels)"),
        ('{"document": {"csaf_version": "2.0", "title": "Caf\xe9"}}'.encode("latin-1"),
         "not UTF-8 text: invalid byte 0xe9 at offset 50"),
        ('{"document": {"csaf_version": "2.0", "x": ' + "[" * 100 + "]" * 100 + "}}", "JSON nested too deeply (limit 64 levels)"),
    ],
)
def test_bad_advisories(tmp_path: Path, text: str, reason: str) -> None:
    (error,) = parse(tmp_path, "a.json", text)
    assert (error.path, error.reason) == ("a.json", reason)
