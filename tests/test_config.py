"""Typed config loading: defaults, inheritance, overrides and the errors a user sees."""
from dataclasses import dataclass, field
from typing import Literal, Optional

import pytest
import yaml

from ltr.config import ConfigError, load_config, save_config, to_dict


@dataclass
class OptimSection:
    lr: float = field(default=1e-4, metadata={"min": 0.0})
    epochs: int = field(default=10, metadata={"min": 1})
    amp: Literal["off", "fp16", "bf16"] = "off"
    milestones: list[int] = field(default_factory=list)
    crop: tuple[int, int] = (320, 320)


@dataclass
class Experiment:
    train: OptimSection = field(default_factory=OptimSection)
    name: Optional[str] = None
    weights: dict[str, float] = field(default_factory=dict)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_inheritance_and_overrides(tmp_path):
    write(tmp_path, "base.yaml", "train:\n  lr: 0.001\n  epochs: 5\n")
    child = write(tmp_path, "child.yaml", "_base_: base.yaml\ntrain:\n  epochs: 7\n  crop: [128, 96]\n")
    cfg = load_config(child, Experiment, ["train.amp=bf16", "name=run1", "weights.got10k=0.5"])
    assert cfg.train == OptimSection(lr=0.001, epochs=7, amp="bf16", milestones=[], crop=(128, 96))
    assert cfg.name == "run1" and cfg.weights == {"got10k": 0.5}


def test_only_defaults_when_no_file():
    assert load_config(None, Experiment) == Experiment()


@pytest.mark.parametrize(
    "text, overrides, expected",
    [
        ("train:\n  lrr: 1\n", [], "unknown key 'train.lrr'"),
        ("train:\n  epochs: 1.5\n", [], "key 'train.epochs': expected int"),
        ("train:\n  epochs: true\n", [], "key 'train.epochs': expected int"),
        ("train:\n  lr: -1\n", [], "key 'train.lr': value -1.0 out of range"),
        ("train:\n  crop: [1, 2, 3]\n", [], "key 'train.crop': expected 2 values"),
        ("train: 3\n", [], "'train' must be a mapping"),
        ("", ["train.amp=fp8"], "--set: key 'train.amp': expected one of 'off', 'fp16', 'bf16'"),
        ("", ["train.nope=1"], "--set: unknown key 'train.nope'"),
        ("", ["train.lr"], "expected KEY=VALUE"),
    ],
)
def test_errors_name_file_key_and_expectation(tmp_path, text, overrides, expected):
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_config(path, Experiment, overrides)
    message = str(info.value)
    assert expected in message
    if not overrides:
        assert str(path) in message


def test_unsafe_yaml_is_refused(tmp_path):
    path = write(tmp_path, "evil.yaml", "name: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path, Experiment)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml", Experiment)


def test_saved_config_reloads_identically(tmp_path):
    cfg = load_config(None, Experiment, ["train.milestones=[3, 6]", "name=x"])
    path = save_config(cfg, tmp_path / "out" / "config.yaml")
    assert yaml.safe_load(path.read_text()) == to_dict(cfg)
    assert load_config(path, Experiment) == cfg


def test_child_mapping_merges_but_empty_or_marked_mapping_replaces(tmp_path):
    write(tmp_path, "base.yaml", "weights: {got10k: 0.5, lasot: 1.0}\ntrain: {lr: 0.001, epochs: 5}\n")
    merged = write(tmp_path, "merged.yaml", "_base_: base.yaml\nweights: {coco: 2.0}\n")
    cleared = write(tmp_path, "cleared.yaml", "_base_: base.yaml\nweights: {}\n")
    replaced = write(tmp_path, "replaced.yaml", "_base_: base.yaml\nweights: {_replace_: true, coco: 2.0}\n"
                                                "train: {_replace_: true, epochs: 9}\n")
    assert load_config(merged, Experiment).weights == {"got10k": 0.5, "lasot": 1.0, "coco": 2.0}
    assert load_config(cleared, Experiment).weights == {}
    cfg = load_config(replaced, Experiment)
    assert cfg.weights == {"coco": 2.0}
    assert cfg.train.lr == OptimSection().lr and cfg.train.epochs == 9  # base lr dropped with its mapping
    assert load_config(merged, Experiment, ["weights={}"]).weights == {}


def test_replace_marker_must_be_boolean(tmp_path):
    write(tmp_path, "base.yaml", "weights: {got10k: 0.5}\n")
    child = write(tmp_path, "child.yaml", "_base_: base.yaml\nweights: {_replace_: yes please}\n")
    with pytest.raises(ConfigError, match="_replace_"):
        load_config(child, Experiment)


def test_shipped_configs_resolve_lr_multipliers_as_written(tmp_path):
    from ltr.config.train import load_training_experiment

    assert load_training_experiment("bit", "default").train.lr_multipliers == {"backbone": 0.1}
    assert load_training_experiment("bit", "tiny", stage=1).train.lr_multipliers == {}  # {} overrides the base
    child = write(tmp_path, "child.yaml", f"_base_: {load_training_experiment.__globals__['experiment_path']('bit', 'tiny')}\n"
                                          "train: {lr_multipliers: {}}\n")
    from ltr.config.loader import load_yaml
    assert load_yaml(child)["train"]["lr_multipliers"] == {}
