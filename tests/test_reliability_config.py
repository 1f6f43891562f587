"""Config files: no silently wrong value (issue 14)."""
import pytest

from ltr.config.loader import ConfigError, load_config, load_yaml, parse_overrides
from ltr.config.train import TrainConfig


def test_readme_exponent_override_is_a_float():
    assert load_config(None, TrainConfig, ["lr=1e-4"]).lr == pytest.approx(1e-4)
    assert parse_overrides(["a=5E3", "b=10", "c=x1e3"]) == {"a": 5000.0, "b": 10, "c": "x1e3"}


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", ".NaN"])
def test_non_finite_floats_are_refused(value):
    with pytest.raises(ConfigError, match="finite"):
        load_config(None, TrainConfig, [f"lr={value}"])


def test_non_finite_float_in_a_file_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("grad_clip: .nan\n")
    with pytest.raises(ConfigError, match=rf"{path}.*grad_clip.*finite"):
        load_config(path, TrainConfig)


def test_duplicate_key_is_an_error_naming_file_line_and_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("lr: 0.1\nepochs: 3\nlr: 0.5\n")
    with pytest.raises(ConfigError, match=rf"{path}:3: duplicate key 'lr' \(first on line 1\)"):
        load_yaml(path)


def test_nested_duplicate_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  lr: 0.1\n  lr: 0.2\n")
    with pytest.raises(ConfigError, match="duplicate key 'lr'"):
        load_yaml(path)


def test_base_cycle_is_a_clear_error(tmp_path):
    (tmp_path / "a.yaml").write_text("_base_: b.yaml\nlr: 0.1\n")
    (tmp_path / "b.yaml").write_text("_base_: a.yaml\n")
    with pytest.raises(ConfigError, match=r"chain loops: .*a\.yaml -> .*b\.yaml -> .*a\.yaml"):
        load_yaml(tmp_path / "a.yaml")
    (tmp_path / "self.yaml").write_text("_base_: self.yaml\n")
    with pytest.raises(ConfigError, match="chain loops"):
        load_yaml(tmp_path / "self.yaml")
