"""Parser-level integration tests of the new formats on the real corpora."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import re
import tarfile
from pathlib import Path

import pytest

from searchapp.corpus import discover, parse_file
from searchapp.report import Report


def _reports(folder: Path) -> tuple[list[Report], list]:
    files, errors = discover(folder)
    reports, rejected = [], list(errors)
    for cf in files:
        for item in parse_file(cf):
            (reports if isinstance(item, Report) else rejected).append(item)
    return reports, rejected


def _surnames(names) -> set[str]:
    """Surnames from "Last, First" (CSV) or "First Last" (PDF) spellings."""
    out = set()
    for name in names:
        name = name.strip()
        last = name.split(",")[0] if "," in name else name.split()[-1]
        out.add(last.strip().lower())
    return out


def _crs_truth(crs: Path) -> dict[str, dict]:
    truth: dict[str, dict] = {}
    with gzip.open(crs / "crs-reports.jsonl.gz", "rt") as f:
        for line in f:
            r = json.loads(line)
            truth[f"{r['report_no']}.{r['version']}"] = {
                "title": r["title"], "date": dt.date.fromisoformat(r["date"]), "authors": r["authors"]}
    for listing in sorted((crs / "raw" / "crs-database-csv-records").glob("*.csv")):
        with listing.open(newline="") as f:
            for row in csv.reader(f):
                if len(row) >= 5 and re.fullmatch(r"\d\d/\d\d/\d{4}", row[3]):
                    month, day, year = map(int, row[3].split("/"))
                    for key in [k for k in truth if k.split(".")[0] == row[0]] or [row[0]]:
                        truth.setdefault(key, {}).update(
                            title=row[1], date=dt.date(year, month, day),
                            authors=[a for a in row[4].split(";") if a.strip()] or truth.get(key, {}).get("authors", []))
    return truth


def _truth_of(stem: str, truth: dict[str, dict]) -> dict | None:
    """``IF10491.14`` or ``IF13199v1-title`` by number and version; ``IF11755``
    (no version in the file name) by report number."""
    named = re.match(r"([A-Z]*\d+(?:-\d+)?)v(\d+)-", stem)
    stem = f"{named[1]}.{named[2]}" if named else stem
    if stem in truth:
        return truth[stem]
    matches = [v for k, v in truth.items() if k.split(".")[0] == stem and "title" in v]
    return matches[0] if len(matches) == 1 else None


def _norm(title: str) -> str:
    return re.sub(r"\W+", " ", title).strip().lower()


@pytest.fixture(scope="module")
def crs_pdfs(shared_corpora: Path) -> tuple[list[Report], list]:
    return _reports(shared_corpora / "crs-reports" / "raw" / "pdf")


def test_crs_pdfs_agree_with_the_ground_truth(shared_corpora: Path, crs_pdfs) -> None:
    reports, rejected = crs_pdfs
    truth = _crs_truth(shared_corpora / "crs-reports")
    assert rejected == [] and len(reports) == 93
    known = [(r, t) for r in reports if (t := _truth_of(r.id.rsplit("/", 1)[-1], truth))]
    titles = sum(_norm(r.title) == _norm(t["title"]) for r, t in known)
    dates = sum(r.date == t["date"] for r, t in known)
    with_authors = [(r, t) for r, t in known if t.get("authors")]
    authors = sum(_surnames(r.authors) == _surnames(t["authors"]) for r, t in with_authors)
    print(f"\nCRS PDFs: {len(known)} with ground truth; titles {titles}, dates {dates}, "
          f"authors {authors} of {len(with_authors)}")
    assert len(known) >= 91  # two PDFs are versions the CSV listings and JSONL records do not name
    assert titles >= 0.95 * len(known) and dates >= 0.95 * len(known)
    assert authors >= 0.95 * len(with_authors)


def test_crs_pdf_deep_phrase_is_on_its_page(crs_pdfs) -> None:
    reports, _ = crs_pdfs
    report = max(reports, key=lambda r: len(r.pages))
    assert len(report.pages) >= 25 and report.pages[0] == 0
    start, end = report.pages[21], report.pages[22]  # page 22
    page_text = report.body[start:end]
    phrase = " ".join(page_text.split()[40:46])
    offset = " ".join(report.body.split()).find(phrase)
    assert offset > 0
    found = report.body.find(page_text.split()[40], start)
    assert report.page_of(found) == 22
    assert report.page_of(report.pages[22]) == 23 and report.page_of(0) == 1


def _unpack(tarball: Path, into: Path) -> Path:
    with tarfile.open(tarball) as archive:
        archive.extractall(into, filter="data")
    return into


def test_raw_csaf_dates_and_sources(shared_corpora: Path, tmp_path: Path) -> None:
    folder = _unpack(shared_corpora / "cisa-csaf-advisories" / "cisa-csaf-raw.tar.gz", tmp_path) / "csaf_files"
    reports, rejected = _reports(folder)
    right = sum(r.date is not None and r.source == "CISA" for r in reports)
    with gzip.open(shared_corpora / "cisa-csaf-advisories" / "cisa-csaf-advisories.jsonl.gz", "rt") as f:
        truth = {json.loads(line)["id"]: json.loads(line)["date"] for line in f}
    dated = {r.extra["tracking_id"]: r.date.isoformat() for r in reports if r.date}
    agree = sum(dated.get(k) == v[:10] for k, v in truth.items())
    print(f"\nCSAF: {len(reports)} advisories, {right} with a date and source CISA, "
          f"{agree} of {len(truth)} dates equal to the JSONL; rejected {len(rejected)}")
    assert len(reports) >= 2383 and right >= 0.99 * len(reports) and agree >= 0.99 * len(truth)


def test_raw_wa_soc_markdown_dates_and_sources(shared_corpora: Path, tmp_path: Path) -> None:
    root = _unpack(shared_corpora / "wa-soc-advisories" / "wa-soc-advisories-raw.tar.gz", tmp_path)
    folder = root / "docs" / "advisories"
    (folder / "_folder.toml").write_text('source = "WA SOC (Western Australian Government Cyber Security Unit)"\n')
    reports, rejected = _reports(folder)
    with gzip.open(shared_corpora / "wa-soc-advisories" / "wa-soc-advisories.jsonl.gz", "rt") as f:
        truth = {(r := json.loads(line))["id"]: (r["date"], r["source"]) for line in f}
    right = sum((r.date.isoformat() if r.date else None, r.source) == truth.get(r.id) for r in reports)
    print(f"\nWA SOC: {len(reports)} advisories, {right} with date and source as in the JSONL; rejected {len(rejected)}")
    assert len(reports) >= 1120 and right >= 0.99 * len(truth)
    assert sum(bool(re.search(r"\]\(https?://", r.body)) for r in reports) == 0


def test_raw_crs_markdown_dates_and_sources(shared_corpora: Path, tmp_path: Path) -> None:
    folder = tmp_path / "crs"
    folder.mkdir()
    for md in (shared_corpora / "crs-reports" / "raw" / "markdown").rglob("*.md"):
        (folder / md.name).write_bytes(md.read_bytes())
    # One line is not enough here: the files' only dates are 04/23/2026, never guessed without a date order.
    (folder / "_folder.toml").write_text('source = "Congressional Research Service"\n')
    undated, _ = _reports(folder)
    assert [r.date for r in undated] == [None] * 92
    assert {(w.field, w.reason) for r in undated for w in r.warnings} == {
        ("date", 'day and month order unknown: write it as YYYY-MM-DD, or set date_order = "month-first" '
                 '(or "day-first") in _folder.toml')}
    (folder / "_folder.toml").write_text('source = "Congressional Research Service"\ndate_order = "month-first"\n')
    reports, rejected = _reports(folder)
    with gzip.open(shared_corpora / "crs-reports" / "crs-reports.jsonl.gz", "rt") as f:
        truth = {(r := json.loads(line))["id"]: (r["date"], r["source"], r["title"]) for line in f}
    right = sum((r.date.isoformat() if r.date else None, r.source) == truth[r.id][:2] for r in reports)
    titles = sum(_norm(r.title) == _norm(truth[r.id][2]) for r in reports)
    print(f"\nCRS Markdown: {len(reports)} reports, {right} with date and source right, {titles} titles; "
          f"rejected {len(rejected)}")
    assert len(reports) == 92 and right >= 0.99 * len(reports)
    assert any(re.search(r"\bOuellette\b", r.body) for r in reports)  # from _Ouellette__ v. Mills_
    assert [r.id for r in reports if "Share/Save" in r.body or "](http" in r.body] == []
