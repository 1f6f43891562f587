"""Training sequences made from real imagery: real objects moving over real photos or videos.

``image_folder`` (registered in TRAIN_DATASETS) is the synthetic generator driven by real media:
targets, look-alikes, occluders and clutter are objects cut from the images of ``objects`` (by
alpha channel, ``<stem>_mask.png`` or whole image: :mod:`ltr.dataset.synthetic.cutouts`), pasted
over the photos or video frames of ``backgrounds`` that pan, zoom and shake under a camera model,
with the generator's occlusion, distractor, blur and illumination events. Boxes and masks are
exact, sequences are a pure function of (seed, files), and any frame renders on its own.

Without folders it uses the project's real-image pool (train part, :mod:`ltr.dataset.real_pool`),
building it on first use from the installed Debian packages. Mix it with GOT-10k, LaSOT, COCO
like any dataset: ``{name: image_folder, weight: 1, kwargs: {objects: /my/cutouts}}``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ltr.dataset.base import TRAIN_DATASETS
from ltr.dataset.synthetic.cutouts import scan_folder
from ltr.dataset.synthetic.params import SyntheticParams
from ltr.dataset.synthetic.training import SyntheticTrainingDataset

# what the camera and events do to real-imagery sequences unless a config says otherwise
REAL_DEFAULTS: dict[str, Any] = {"p_camera_zoom": 0.3, "p_camera_shake": 0.3, "clutter": 12}


def real_params(objects: str, backgrounds: str, params: Mapping[str, Any] | SyntheticParams | None) -> SyntheticParams:
    """Generator parameters for real media: ``REAL_DEFAULTS`` under ``params``, folders set."""
    if isinstance(params, SyntheticParams):
        return dataclasses.replace(params, object_folder=objects, background_folder=backgrounds)
    return SyntheticParams.from_dict({**REAL_DEFAULTS, **dict(params or {}),
                                      "object_folder": objects, "background_folder": backgrounds})


@TRAIN_DATASETS.register("image_folder")
class ImageFolderDataset(SyntheticTrainingDataset):
    """Generated sequences of real objects (``objects``) over real backgrounds (``backgrounds``).

    ``split`` picks the seed block as for ``synthetic``; the remaining keywords are those of
    :class:`SyntheticTrainingDataset`. Unusable files are skipped with a logged count.
    """

    name = "image_folder"

    def __init__(self, objects: str | None = None, backgrounds: str | None = None, num_sequences: int = 1000,
                 split: str = "train", base_seed: int = 0,
                 params: SyntheticParams | Mapping[str, Any] | None = None, cache_size: int = 8) -> None:
        if objects is None or backgrounds is None:
            from ltr.dataset.real_pool import build_pool, pool_folder

            root = build_pool()
            objects = objects or str(pool_folder(root, "objects", "train"))
            backgrounds = backgrounds or str(pool_folder(root, "backgrounds", "train"))
        scan_folder(str(objects), "objects")  # fail now, naming the folder, not in a loader worker
        scan_folder(str(backgrounds), "backgrounds")
        super().__init__(num_sequences, split, base_seed, real_params(str(objects), str(backgrounds), params),
                         cache_size)

    def get_sequence_name(self, seq_id: int) -> str:
        return "Real" + super().get_sequence_name(seq_id).removeprefix("Synthetic")
