"""BIT (Bidirectional Interaction of CNN and Transformer features) tracker network."""
from ltr.models.bit.config import BitModelConfig
from ltr.models.bit.network import BitNet, bit, bit_kwargs

__all__ = ["BitModelConfig", "BitNet", "bit", "bit_kwargs"]
