"""Learning tracking representations: datasets, models, actors and the trainer."""

__version__ = "0.1.0"
