import json

import pytest
from click.testing import CliRunner

from searchapp.cli import main

from .conftest import DATA_CORPUS, SEED_CORPUS


@pytest.fixture
def runner():
    return CliRunner()


def test_reindex_prints_a_summary_and_search_finds(runner, tmp_path):
    index_dir = tmp_path / "index"
    result = runner.invoke(main, ["reindex", "--corpus", str(SEED_CORPUS), "--index", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert "full rebuild" in result.output
    assert "reports: 1 added, 0 updated, 0 removed, 0 unchanged; 1 in the index; 1 files" in result.output
    assert "indexed 1/1 files" in result.output  # plain progress lines when not a terminal

    result = runner.invoke(main, ["search", "Belkov", "--index", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith('1 report for "Belkov"')
    assert "2024-07-28 | UK Ministry of Defence" in result.output
    assert "**Belkov**" in result.output
    assert "source: UK Ministry of Defence (1)" in result.output


def test_search_json_is_exactly_to_dict(runner, built_index):
    from searchapp import search

    args = ["search", "energy", "--index", str(built_index), "--source", "CISA", "--from", "2024", "--json"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expected = search("energy", index_dir=built_index, source=["CISA"], date_from="2024").to_dict()
    data.pop("elapsed_ms"), expected.pop("elapsed_ms")
    assert data == expected and data["total"] == 2


def test_filters_sort_and_page_options(runner, built_index):
    result = runner.invoke(main, ["search", "--index", str(built_index), "--topic", "energy",
                                  "--sort", "oldest", "--per-page", "1", "--page", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == 3 and data["page"] == 2 and data["hits"][0]["date"] == "2024-06-03"


@pytest.mark.parametrize(
    "args, message",
    [(["search", "nosuch:x"], "Error: unknown field 'nosuch' in the query; the fields are title:, body:, source:, topic:, date:, author:, language:, person:, org:, place:"),
     (["search", "x", "--from", "2024-99"], "Error: date_from: not a date: '2024-99' (month must be in 1..12)"),
     (["search", "x", "--page", "0"], "Error: page must be 1 or more, got 0"),
     (["search", "x", "--sort", "best"], "Error: unknown sort 'best'; use one of: relevance, newest, oldest")],
)
def test_bad_input_gives_one_clear_line(runner, built_index, args, message):
    result = runner.invoke(main, args + ["--index", str(built_index)])
    assert result.exit_code == 1
    assert result.output.strip() == message


def test_missing_index_tells_what_to_run(runner, tmp_path):
    result = runner.invoke(main, ["search", "x", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: no search index in {tmp_path / 'none'}: run `searchapp reindex` to build one"


def test_settings_come_from_the_environment(runner, tmp_path):
    env = {"SEARCHAPP_CORPUS": str(DATA_CORPUS), "SEARCHAPP_INDEX": str(tmp_path / "ix")}
    result = runner.invoke(main, ["reindex", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total"] == 13


def test_reindex_lists_rejected_files(runner, tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "empty.txt").write_text("")
    (corpus / "ok.txt").write_text("date 2024-01-01 Fine\n\nbody\n")
    result = runner.invoke(main, ["reindex", "--corpus", str(corpus), "--index", str(tmp_path / "i")])
    assert result.exit_code == 0, result.output
    assert "rejected (1):\n    empty.txt: empty file" in result.output


def test_every_command_is_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for name in main.commands:
        assert f"searchapp {name}" in readme, f"`searchapp {name}` is not documented in README.md"


def test_reindex_json_lists_rejected_files(runner, tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "empty.txt").write_text("")
    (corpus / "ok.txt").write_text("date 2024-01-01 Fine\n\nbody\n")
    (corpus / "r.jsonl").write_text('{"id": "a", "title": "A", "body": "alpha"}\nnot json\n')
    result = runner.invoke(main, ["reindex", "--corpus", str(corpus), "--index", str(tmp_path / "i"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    rejected = sorted((r["path"], r["line"]) for r in data["rejected"])
    assert rejected == [("empty.txt", None), ("r.jsonl", 2)]
    assert next(r for r in data["rejected"] if r["path"] == "empty.txt")["reason"] == "empty file"
    assert data["total"] == 2


def test_cli_adds_the_flag_hints_the_library_leaves_out(runner, tmp_path, monkeypatch):
    from searchapp import cli
    from searchapp.errors import IndexLockedError, SchemaVersionError

    def locked(*args, **kwargs):
        raise IndexLockedError(str(tmp_path))

    monkeypatch.setattr(cli, "run_reindex", locked)
    result = runner.invoke(main, ["reindex", "--corpus", str(tmp_path), "--index", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: another reindex is already running on {tmp_path}; wait for it to "
                                     "finish (or run `searchapp reindex --wait` to wait for it)")

    def old(*args, **kwargs):
        raise SchemaVersionError(str(tmp_path), 1, 2)

    monkeypatch.setattr(cli.SearchIndex, "open", old)
    result = runner.invoke(main, ["search", "x", "--index", str(tmp_path)])
    assert result.output.strip() == (f"Error: the index in {tmp_path} has schema version 1, this searchapp needs 2: "
                                     "rebuild it with a full reindex (run `searchapp reindex --full`)")


def test_bad_settings_are_one_clear_line(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "searchapp.toml").write_text("corpus = 5\n")
    result = runner.invoke(main, ["reindex"])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: setting 'corpus' in {tmp_path / 'searchapp.toml'} must be a path (text), got 5"


def test_per_page_option_is_checked_by_the_core(runner, built_index):
    result = runner.invoke(main, ["search", "x", "--per-page", "101", "--index", str(built_index)])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: per_page must be between 1 and 100, got 101"


def test_serve_takes_the_corpus_whose_originals_it_offers(runner, tmp_path, monkeypatch):
    from searchapp import server

    served = []
    monkeypatch.setattr(server, "serve", served.append)
    result = runner.invoke(main, ["serve", "--index", str(tmp_path / "ix"), "--corpus", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    (settings,) = served
    assert (settings.index, settings.corpus) == (tmp_path / "ix", tmp_path / "c")
