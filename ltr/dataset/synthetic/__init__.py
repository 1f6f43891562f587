"""Built-in synthetic tracking data: seeded, random-access video sequences with exact annotations.

Generator: :class:`SyntheticSequence` (``render_frame(i)``, ``geometry``, ``attributes``) driven
by :class:`SyntheticParams`. Training: :mod:`.training` (``SyntheticTrainingDataset``, registered
as ``synthetic``). Benchmark on disk in the GOT-10k layout: :mod:`.benchmark`
(``materialise_split`` and ``python -m ltr.dataset.synthetic.benchmark``).
"""
from ltr.dataset.synthetic.geometry import SequenceGeometry
from ltr.dataset.synthetic.params import EVENTS, SHAPES, TEXTURES, SyntheticParams
from ltr.dataset.synthetic.sequence import SyntheticSequence
from ltr.dataset.synthetic.splits import SPLITS, sequence_name, sequence_seed

__all__ = [
    "EVENTS", "SHAPES", "SPLITS", "TEXTURES", "SequenceGeometry", "SyntheticParams", "SyntheticSequence",
    "sequence_name", "sequence_seed",
]
