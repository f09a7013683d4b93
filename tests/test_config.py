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
