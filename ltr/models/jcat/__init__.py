"""JCAT (Yang & Gu, TIP 2023): correlation + attention feature fusion for target segmentation."""
from ltr.models.jcat.config import JcatModelConfig
from ltr.models.jcat.network import JcatNet, jcat, jcat_kwargs

__all__ = ["JcatModelConfig", "JcatNet", "jcat", "jcat_kwargs"]
