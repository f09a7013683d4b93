from pathlib import Path

import pytest

from searchapp.config import load_settings
from searchapp.errors import ConfigError


def test_precedence_defaults_file_environment_options(tmp_path):
    assert load_settings(cwd=tmp_path, environ={}).index == tmp_path / "index"
    (tmp_path / "searchapp.toml").write_text('index = "from-file"\nport = 9000\n')
    assert load_settings(cwd=tmp_path, environ={}).index == tmp_path / "from-file"
    env = {"SEARCHAPP_INDEX": "/abs/from-env"}
    settings = load_settings(cwd=tmp_path, environ=env)
    assert settings.index == Path("/abs/from-env") and settings.port == 9000
    assert load_settings(cwd=tmp_path, environ=env, index=Path("opt")).index == tmp_path / "opt"


def test_bad_values_are_named(tmp_path):
    with pytest.raises(ConfigError, match="setting 'port' in the environment must be a whole number, got 'x'"):
        load_settings(cwd=tmp_path, environ={"SEARCHAPP_PORT": "x"})
    (tmp_path / "searchapp.toml").write_text("colour = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings(cwd=tmp_path, environ={})
    (tmp_path / "searchapp.toml").write_text("index = \n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(cwd=tmp_path, environ={})


# -- one table: dataclass, defaults, help and README --------------------------------

def test_the_dataclass_and_its_defaults_are_the_table():
    from dataclasses import fields

    from searchapp.config import SETTINGS, Settings

    assert [(f.name, f.default) for f in fields(Settings)] == [(s.name, s.default) for s in SETTINGS]
    assert Settings().port == 8000 and Settings().topics is None and Settings().allowed_hosts == ()


def test_the_readme_table_is_the_settings_table():
    from searchapp.config import settings_table

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    start = readme.index("| setting | default | meaning |")
    end = readme.index("\n\n", start)
    assert readme[start:end + 1] == settings_table()


def test_cli_help_comes_from_the_table():
    from click.testing import CliRunner

    from searchapp.cli import main
    from searchapp.config import SETTINGS

    result = CliRunner().invoke(main, ["serve", "--help"], terminal_width=1000)
    assert result.exit_code == 0, result.output
    port = next(s for s in SETTINGS if s.name == "port")
    assert f"--port INTEGER {port.help} [default: 8000]" in " ".join(result.output.split())


# -- kinds: each setting's declared type ----------------------------------------------

@pytest.mark.parametrize("line, message", [
    ("corpus = 5", "setting 'corpus' in {file} must be a path (text), got 5"),
    ("port = true", "setting 'port' in {file} must be a whole number, got True"),
    ("port = 1.5", "setting 'port' in {file} must be a whole number, got 1.5"),
    ('port = "80"', "setting 'port' in {file} must be a whole number, got '80'"),
    ('host = 1', "setting 'host' in {file} must be text, got 1"),
    ('allowed_hosts = "a b"', "setting 'allowed_hosts' in {file} must be a list of host names (text), got 'a b'"),
    ("allowed_hosts = [1]", "setting 'allowed_hosts' in {file} must be a list of host names (text), got [1]"),
    ("port = 70000", "setting 'port' in {file} must be between 0 and 65535, got 70000"),
    ("threads = 0", "setting 'threads' in {file} must be between 1 and 1024, got 0"),
    ("per_page = 0", "setting 'per_page' in {file} must be 1 or more, got 0"),
])
def test_toml_values_are_checked_by_their_kind(tmp_path, line, message):
    (tmp_path / "searchapp.toml").write_text(line + "\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cwd=tmp_path, environ={})
    assert str(e.value) == message.format(file=tmp_path / "searchapp.toml")


def test_toml_strings_are_kept_as_the_kind_says(tmp_path):
    # A quoted number in TOML is text: refused for a number, kept for text.
    (tmp_path / "searchapp.toml").write_text('host = "::1"\nport = 0\nallowed_hosts = ["Search.Example.ORG."]\n')
    settings = load_settings(cwd=tmp_path, environ={})
    assert (settings.host, settings.port, settings.allowed_hosts) == ("::1", 0, ("search.example.org",))


def test_environment_text_is_read_by_kind(tmp_path):
    env = {"SEARCHAPP_PORT": " 9001 ", "SEARCHAPP_ALLOWED_HOSTS": "a.example, .b.example,,",
           "SEARCHAPP_TOPICS": ""}
    settings = load_settings(cwd=tmp_path, environ=env)
    assert (settings.port, settings.allowed_hosts, settings.topics) == (9001, ("a.example", ".b.example"), None)
    with pytest.raises(ConfigError, match=r"^setting 'port' in the environment must be a whole number, got 'true'$"):
        load_settings(cwd=tmp_path, environ={"SEARCHAPP_PORT": "true"})


# -- limits, checked once when settings load ---------------------------------------------

@pytest.mark.parametrize("values, message", [
    ({"per_page": 101}, "setting 'per_page' (101) must not be larger than 'max_per_page' (100)"),
    ({"per_page": 20, "max_per_page": 10}, "setting 'per_page' (20) must not be larger than 'max_per_page' (10)"),
    ({"max_per_page": 101}, "setting 'max_per_page' in {origin} must be between 1 and 100, got 101"),
    ({"max_query_length": 10_001}, "setting 'max_query_length' in {origin} must be between 1 and 10000, got 10001"),
])
def test_limits_name_the_setting(tmp_path, values, message):
    text = "".join(f"{k} = {v}\n" for k, v in values.items())
    (tmp_path / "searchapp.toml").write_text(text)
    with pytest.raises(ConfigError) as e:
        load_settings(cwd=tmp_path, environ={})
    assert str(e.value) == message.format(origin=tmp_path / "searchapp.toml")


def test_the_limits_are_the_cores():
    from searchapp.config import SETTINGS
    from searchapp.query import MAX_QUERY_CHARS
    from searchapp.search import MAX_PER_PAGE

    limits = {s.name: s.maximum for s in SETTINGS}
    assert (limits["max_per_page"], limits["max_query_length"]) == (MAX_PER_PAGE, MAX_QUERY_CHARS)


def test_a_settings_made_in_code_is_checked_too():
    from searchapp.config import Settings

    with pytest.raises(ConfigError, match=r"^setting 'max_per_page' must be between 1 and 100, got 500$"):
        Settings(per_page=10, max_per_page=500)
    with pytest.raises(ConfigError, match=r"^setting 'per_page' \(60\) must not be larger than 'max_per_page' \(50\)$"):
        Settings(per_page=60, max_per_page=50)


def test_the_largest_settings_the_table_allows_search_without_error(built_index):
    from searchapp import SearchIndex

    settings = load_settings(cwd=built_index, environ={}, per_page=100, max_per_page=100,
                             max_query_length=10_000)
    with SearchIndex.open(built_index) as index:
        # any-word mode: the longest query as one bag of words (the query language would parse
        # 5,000 clauses, whose cost the engine's time budget may refuse on a busy machine)
        results = index.search("x " * (settings.max_query_length // 2 - 1), per_page=settings.max_per_page,
                               mode="any")
    assert results.per_page == 100
