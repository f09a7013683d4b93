"""The metadata cascade (searchapp.corpus.meta): folder defaults, sidecars, file names, language."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from searchapp.corpus.meta import detect_language, filename_date
from searchapp.report import ParseWarning
from tests.make_files import parse_files


def parse(folder: Path, files: dict[str, str]) -> dict:
    return {item.id: item for item in parse_files(folder, files)}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("2024-07-28-russia.md", dt.date(2024, 7, 28)), ("20221103001-openSSL.md", dt.date(2022, 11, 3)),
     ("2024_07_28 notes.txt", dt.date(2024, 7, 28)), ("20241399001-x.md", None), ("report-2024-07-28.md", None),
     ("123456789012345-x.md", None)],
)
def test_filename_date(name: str, expected) -> None:
    assert filename_date(f"a/b/{name}") == expected


def test_folder_defaults_apply_below_and_sidecar_overrides(tmp_path: Path) -> None:
    reports = parse(tmp_path, {
        "_folder.toml": 'source = "Top"\ntopics = ["all"]\n',
        "cisa/_folder.toml": 'source = "CISA"\n',
        "cisa/deep/a.txt": "Alert A\n\nText of the alert about water systems.",
        "cisa/b.txt": "Alert B\n\nText.",
        "cisa/b.txt.meta.toml": 'source = "CISA ICS"\ndate = 2024-07-28\nauthors = ["J. Doe"]\ntitle = "ignored: the file has a title"\n',
        "other/c.txt": "Alert C\nSource: Its own\n\nText.",
    })
    a, b, c = reports["cisa/deep/a"], reports["cisa/b"], reports["other/c"]
    assert (a.source, a.topics) == ("CISA", ("all",))
    assert (b.source, b.date, b.authors, b.title) == ("CISA ICS", dt.date(2024, 7, 28), ("J. Doe",), "Alert B")
    assert (c.source, c.topics) == ("Its own", ("all",))  # the document's own wins


def test_bad_folder_file_is_a_warning(tmp_path: Path) -> None:
    reports = parse(tmp_path, {"_folder.toml": 'source = "x\ncolour = 1\n', "r.txt": "T\n\nBody."})
    (warning,) = reports["r"].warnings
    assert (warning.field, warning.value) == ("metadata", "_folder.toml")
    assert warning.reason.startswith("not valid TOML (") and warning.reason.endswith("): not applied")
    assert reports["r"].source == "unknown source"


def test_unknown_keys_and_bad_date_order(tmp_path: Path) -> None:
    reports = parse(tmp_path, {"_folder.toml": 'colour = "red"\ndate_order = "middle"\n', "r.txt": "T\nDate: 04/13/2026\n\nBody."})
    assert set(reports["r"].warnings) == {
        ParseWarning("metadata", "_folder.toml", "unknown keys colour: ignored"),
        ParseWarning("date_order", "middle", 'use "month-first" or "day-first"'),
        ParseWarning("date", "04/13/2026", 'day and month order unknown: write it as YYYY-MM-DD, or set '
                                            'date_order = "month-first" (or "day-first") in _folder.toml'),
    }


def test_header_lines_come_before_the_file_name(tmp_path: Path) -> None:
    reports = parse(tmp_path, {"_folder.toml": 'date_order = "day-first"\n',
                               "2020-01-01-r.txt": "Title\nPublication Date: 31/12/2024\n\nBody."})
    assert reports["2020-01-01-r"].date == dt.date(2024, 12, 31)


def test_impossible_numeric_date_says_so(tmp_path: Path) -> None:
    reports = parse(tmp_path, {"_folder.toml": 'date_order = "month-first"\n', "r.txt": "Title\nDate: 31/12/2024\n\nBody."})
    assert reports["r"].warnings == (ParseWarning("date", "31/12/2024", "not a possible date when read month-first"),)


@pytest.mark.parametrize(
    ("text", "language"),
    [("The committee held a hearing on the budget request of the federal judiciary for next year.", "en"),
     ("Le comité a tenu une audience sur la demande budgétaire de la justice fédérale pour l'année prochaine.", "fr"),
     ("Der Ausschuss hielt eine Anhörung zum Haushaltsantrag der Bundesjustiz für das nächste Jahr ab.", "de"),
     ("Too short.", None)],
)
def test_detect_language(text: str, language: str | None) -> None:
    assert detect_language(text) == language


def test_folder_language_is_a_default_only(tmp_path: Path) -> None:
    reports = parse(tmp_path, {"_folder.toml": 'language = "de"\n', "r.txt": "T\n\nShort."})
    assert reports["r"].language == "de"


def test_each_parser_runs_in_a_child_process(tmp_path: Path) -> None:
    """A worker can run one reader on one CorpusFile and send what it read back, to be completed here."""
    import concurrent.futures
    import multiprocessing

    from searchapp.corpus import READERS, Extracted, complete, discover

    (tmp_path / "2024-07-28-r.md").write_text("# Title\n\nSome **text** in a child.")
    (cf,) = discover(tmp_path)[0]
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        parsed = pool.submit(READERS[".md"], cf).result(timeout=120)
    (report,) = complete(cf, Extracted(parsed))
    assert (report.title, report.body, report.date) == ("Title", "Some text in a child.", dt.date(2024, 7, 28))
