"""Registries of networks and backbones; checkpoints name a network and its kwargs.

A module that registers into one of these must be listed here (append yours).
"""
from ltr.admin.registry import Registry

NETWORKS = Registry("network", modules=["ltr.models.bit.network", "ltr.models.jcat.network", "ltr.models.tiny_net"])
BACKBONES = Registry("backbone", modules=["ltr.models.backbone.resnet", "ltr.models.backbone.vit"])
