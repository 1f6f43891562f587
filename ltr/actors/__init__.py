"""Actors (network + objective -> loss and stats), registered by name for ``run_training``.

An actor is built as ``ACTORS.build(name, net=net, config=experiment)``; a module that
registers actors must be listed here (append yours).
"""
from ltr.admin.registry import Registry

ACTORS = Registry("actor", modules=["ltr.models.tiny_net", "ltr.actors.jcat", "ltr.actors.bit"])
