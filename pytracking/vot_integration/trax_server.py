"""A TraX server for any registered tracker: the process vot-toolkit starts and talks to (metrics.md §8).

Box trackers announce the ``rectangle`` region format and report ``target_bbox``; segmentation
trackers (class attribute ``produces_segmentation = True``) announce ``mask`` and report their
``segmentation``. Images come as file paths. Every reply carries the tracker's ``score`` as the
``confidence`` property when it gives one. TraX uses stdin/stdout, so this process must not print
to stdout; logging goes to stderr.
"""
from __future__ import annotations

import logging
from typing import Any

from pytracking.api import TrackerHandle, as_image
from pytracking.tracker.base import SequenceInfo
from pytracking.vot_integration.regions import init_info, output_region

logger = logging.getLogger(__name__)


def region_formats(handle: TrackerHandle) -> list[str]:
    """The region formats to announce: mask for segmentation trackers, rectangle otherwise."""
    import trax

    return [trax.Region.MASK] if handle.produces_segmentation else [trax.Region.RECTANGLE]


def _properties(out: dict[str, Any]) -> dict[str, str]:
    score = out.get("score")
    return {} if score is None else {"confidence": f"{float(score):.6f}"}


def serve(handle: TrackerHandle, name: str = "", dataset: str = "vot") -> int:
    """Answer TraX requests with ``handle`` until the client quits; returns the number of frames tracked.

    Each initialisation tells the tracker it runs on benchmark ``dataset`` (TraX does not name the
    sequence, so the sequences are numbered in the order the toolkit starts them)."""
    import trax

    formats = region_formats(handle)
    mask_format = formats == [trax.Region.MASK]
    frames = starts = 0
    with trax.Server(formats, [trax.Image.PATH], tracker_name=name or handle.name) as server:
        while True:
            request = server.wait()
            if request.type == "quit" or request.type == "error":
                break
            image = as_image(request.image["color"].path())
            if request.type == "initialize":
                region = request.objects[0][0]
                info = init_info(region, image.shape[1], image.shape[0])
                starts += 1
                sequence = SequenceInfo(dataset=dataset, name=f"trax_{starts:04d}")
                handle.initialize(image, info.pop("init_bbox"), sequence=sequence, **info)
                server.status([(region, {})])
            else:
                handle.track(image)
                server.status([(output_region(handle.last_output, mask_format), _properties(handle.last_output))])
            frames += 1
    logger.info("trax session ended after %d frames", frames)
    return frames
