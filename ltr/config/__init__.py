"""Typed configuration: schemas, YAML loading with overrides, saving the resolved config."""
from ltr.config.experiment import TRACKER_SCHEMAS, experiment_path, list_experiments, load_experiment
from ltr.config.loader import ConfigError, from_dict, load_config, save_config, to_dict

__all__ = [
    "ConfigError", "TRACKER_SCHEMAS", "experiment_path", "from_dict", "list_experiments",
    "load_config", "load_experiment", "save_config", "to_dict",
]
