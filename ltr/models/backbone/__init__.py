"""Feature extractors: torchvision ResNets and timm ViTs, registered in ``BACKBONES``."""
