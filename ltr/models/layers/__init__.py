"""Reusable network layers: position encodings, attention blocks, prediction heads."""
from ltr.models.layers.attention import (
    ChannelSelfAttention,
    CrossAttentionLayer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from ltr.models.layers.heads import MLP, CornerPredictor, conv_bn_relu
from ltr.models.layers.position_encoding import PositionEmbeddingSine

__all__ = [
    "ChannelSelfAttention", "CrossAttentionLayer", "TransformerDecoder", "TransformerDecoderLayer",
    "TransformerEncoder", "TransformerEncoderLayer", "MLP", "CornerPredictor", "conv_bn_relu",
    "PositionEmbeddingSine",
]
