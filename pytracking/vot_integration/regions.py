"""Conversions between TraX regions (``trax.region``) and the tracker interface's boxes, polygons and masks."""
from __future__ import annotations

from typing import Any

import numpy as np


def _image_size_mask(mask: np.ndarray, offset: tuple[int, int], width: int, height: int) -> np.ndarray:
    """A mask crop at ``offset`` placed into a full ``height x width`` frame (parts outside dropped)."""
    full = np.zeros((height, width), np.uint8)
    x0, y0 = offset
    h, w = mask.shape
    xs, ys = max(x0, 0), max(y0, 0)
    xe, ye = min(x0 + w, width), min(y0 + h, height)
    if xe > xs and ye > ys:
        full[ys:ye, xs:xe] = mask[ys - y0:ye - y0, xs - x0:xe - x0]
    return full


def init_info(region: Any, width: int, height: int) -> dict[str, Any]:
    """``initialize`` info from a TraX region: ``init_bbox`` always; ``init_region`` (flat polygon)
    for polygons; ``init_mask`` (full-frame uint8) for masks."""
    import trax

    if region.type == trax.Region.RECTANGLE:
        return {"init_bbox": [float(v) for v in region.bounds()]}
    if region.type == trax.Region.POLYGON:
        points = np.asarray([region.get(i) for i in range(region.size())], dtype=np.float64)
        x0, y0 = points.min(axis=0)
        x1, y1 = points.max(axis=0)
        return {"init_bbox": [x0, y0, x1 - x0, y1 - y0], "init_region": points.reshape(-1).tolist()}
    if region.type == trax.Region.MASK:
        mask = _image_size_mask(region.array(), region.offset(), width, height)
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            raise ValueError("the initial mask is empty")
        box = [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)]
        return {"init_bbox": box, "init_mask": mask}
    raise ValueError(f"unsupported TraX region type {region.type!r}")


def output_region(out: dict[str, Any], mask_format: bool) -> Any:
    """The TraX region to report: the tracker's mask (cropped to its bounds) in mask format, else its box."""
    import trax

    if mask_format:
        mask = out.get("segmentation")
        if mask is None:
            raise ValueError("the tracker declared produces_segmentation but returned no 'segmentation'")
        mask = (np.asarray(mask) > 0).astype(np.uint8)
        ys, xs = np.nonzero(mask)
        if len(xs) == 0:
            return trax.Mask.create(np.zeros((1, 1), np.uint8))
        x0, y0 = int(xs.min()), int(ys.min())
        crop = np.ascontiguousarray(mask[y0:int(ys.max()) + 1, x0:int(xs.max()) + 1])
        return trax.Mask.create(crop, x=x0, y=y0)
    x, y, w, h = (float(v) for v in out["target_bbox"])
    return trax.Rectangle.create(x, y, w, h)
