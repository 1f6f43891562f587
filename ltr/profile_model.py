"""Print a tracker network's parameters, MACs per frame and a latency breakdown.

    python ltr/profile_model.py bit default [--set model.d_model=128] [--runs 20] [--device cuda --amp]
    python ltr/profile_model.py jcat default

MACs come from torch's FlopCounterMode (MACs = FLOPs / 2, batch 1). "Per frame" is the search
crop's backbone plus everything after it (templates cached); the template backbone is reported
separately as "per update". Latencies are medians of ``--runs`` timed runs after ``--warmup``
runs, CUDA-synchronised, for each stage the tracker runs per frame.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.utils.flop_counter as flop_counter
from torch import nn

from ltr.admin.devices import resolve_device
from ltr.config.experiment import load_experiment
from ltr.config.loader import ConfigError
from ltr.data.boxes import crop_around_box
from ltr.models.backbone.pretrained import IMAGENET_MEAN, IMAGENET_STD, without_pretrained
from ltr.models.bit import BitModelConfig, BitNet, bit_kwargs
from ltr.models.precision import autocast_context
from ltr.models.registry import NETWORKS

SEARCH_FACTOR = 5.0


def load_bit_config(name: str, overrides: Sequence[str] = ()) -> BitModelConfig:
    """The ``model:`` section of ``experiments/bit/<name>.yaml`` (or a YAML path) with ``--set`` overrides.

    The whole file is validated by the BIT experiment schema, so a typo anywhere in it (or in an
    override) is reported, and ``_base_`` inheritance applies.
    """
    return load_experiment("bit", name, overrides).model


def build_bit(cfg: BitModelConfig, device: torch.device) -> BitNet:
    """The ``bit`` network from the registry, in eval mode on ``device`` (random weights: profiling
    needs no ImageNet download)."""
    return NETWORKS.build("bit", **without_pretrained(bit_kwargs(cfg))).eval().to(device)


def parameter_table(net: nn.Module) -> "OrderedDict[str, tuple[int, int]]":
    """(total, trainable) parameter counts per top-level block, plus a ``total`` row."""
    table: OrderedDict[str, tuple[int, int]] = OrderedDict()
    for name, module in net.named_children():
        params = list(module.parameters())
        if params:
            table[name] = (sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad))
    table["total"] = (sum(v[0] for v in table.values()), sum(v[1] for v in table.values()))
    return table


def _sdpa_cpu_flops(query_shape, key_shape, value_shape, *args, **kwargs) -> int:
    return flop_counter.sdpa_flop_count(query_shape, key_shape, value_shape)


# The CPU flash-attention kernel that nn.MultiheadAttention uses has no built-in formula.
_EXTRA_FLOPS = {torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _sdpa_cpu_flops}


def count_macs(fn: Callable[[], Any]) -> int:
    """Multiply-accumulates of one call of ``fn`` (FLOPs / 2, torch's counter + CPU attention)."""
    with torch.no_grad(), flop_counter.FlopCounterMode(display=False, custom_mapping=_EXTRA_FLOPS) as counter:
        fn()
    return counter.get_total_flops() // 2


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_ms(fn: Callable[[], Any], device: torch.device, runs: int, warmup: int) -> float:
    """Median wall time of ``fn`` in milliseconds (synchronised on CUDA)."""
    times = []
    with torch.no_grad():
        for i in range(warmup + runs):
            _sync(device)
            start = time.perf_counter()
            fn()
            _sync(device)
            if i >= warmup:
                times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


@dataclass
class BitInputs:
    """Random normalised crops (batch 1) and cached features for profiling one BIT net."""

    templates: list[dict[str, torch.Tensor]]
    search_img: torch.Tensor
    search_mask: torch.Tensor
    template_img: torch.Tensor
    template_mask: torch.Tensor


def make_inputs(net: BitNet, device: torch.device) -> BitInputs:
    """Crops of the configured sizes and the two cached template feature dicts."""
    cfg = net.cfg
    z = torch.randn(1, 3, cfg.template_size, cfg.template_size, device=device)
    zm = torch.zeros(1, cfg.template_size, cfg.template_size, dtype=torch.bool, device=device)
    x = torch.randn(1, 3, cfg.search_size, cfg.search_size, device=device)
    xm = torch.zeros(1, cfg.search_size, cfg.search_size, dtype=torch.bool, device=device)
    with torch.no_grad():
        template = net.forward_backbone(z, zm)
    return BitInputs([template, template], x, xm, z, zm)


def crop_and_normalise(image: np.ndarray, box: np.ndarray, size: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The tracker's per-frame preprocessing: search crop, padding mask, ImageNet normalisation."""
    crop, pad, _, _ = crop_around_box(image, box, SEARCH_FACTOR, size)
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
    img = torch.from_numpy(crop).to(device).permute(2, 0, 1)[None].float().div_(255).sub_(mean).div_(std)
    return img, torch.from_numpy(pad).to(device)[None]


def bit_macs(net: BitNet, inputs: BitInputs) -> "OrderedDict[str, int]":
    """MACs of the per-frame parts (search backbone, transformer side + heads) and per update."""
    with torch.no_grad():
        search = net.forward_backbone(inputs.search_img, inputs.search_mask)
    macs: OrderedDict[str, int] = OrderedDict()
    macs["search backbone"] = count_macs(lambda: net.forward_backbone(inputs.search_img, inputs.search_mask))
    macs["transformer + heads"] = count_macs(
        lambda: net.forward_head(inputs.templates, search, run_box_head=True, run_score_head=True))
    macs["per frame"] = macs["search backbone"] + macs["transformer + heads"]
    macs["template backbone (per update)"] = count_macs(
        lambda: net.forward_backbone(inputs.template_img, inputs.template_mask))
    return macs


def bit_latency(net: BitNet, inputs: BitInputs, device: torch.device, runs: int, warmup: int,
                amp: bool = False) -> "OrderedDict[str, float]":
    """Median milliseconds of each per-frame stage, their sum and the end-to-end frame time."""
    cfg = net.cfg
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(480, 640, 3), dtype=np.uint8)
    box = np.array([280.0, 200.0, 80.0, 60.0])
    with torch.no_grad(), autocast_context(device, amp):
        search = net.forward_backbone(inputs.search_img, inputs.search_mask)
        enc = net.encode(inputs.templates, search)
        tokens = net.aggregate(enc["levels"], enc["pos"], enc["mask"])
        f = net.interact(tokens, enc["pos"], enc["mask"], search)
        stages = OrderedDict([
            ("crop/normalise", lambda: crop_and_normalise(image, box, cfg.search_size, device)),
            ("backbone", lambda: net.forward_backbone(inputs.search_img, inputs.search_mask)),
            ("encoder" if net.vit is None else "vit", lambda: net.encode(inputs.templates, search)),
            ("MDAI", lambda: net.aggregate(enc["levels"], enc["pos"], enc["mask"])),
            ("CTIF", lambda: net.interact(tokens, enc["pos"], enc["mask"], search)),
            *([("template correlation", lambda: net.correlate(f, inputs.templates[0], search))]
              if net.template_correlation is not None else []),
            ("heads", lambda: net.predict(f, tokens, enc["pos"], enc["mask"], True, True)),
        ])
        times = OrderedDict((name, median_ms(fn, device, runs, warmup)) for name, fn in stages.items())
        times["sum of stages"] = sum(times.values())

        def frame() -> None:
            img, pad = crop_and_normalise(image, box, cfg.search_size, device)
            net.forward_head(inputs.templates, net.forward_backbone(img, pad), True, True)

        times["end-to-end frame"] = median_ms(frame, device, runs, warmup)
    return times


def profile_bit(cfg: BitModelConfig, device: torch.device, runs: int, warmup: int, amp: bool,
                latency: bool = True) -> dict[str, Any]:
    """Parameters, MACs and (optionally) latencies of one BIT config."""
    net = build_bit(cfg, device)
    inputs = make_inputs(net, device)
    result: dict[str, Any] = {"params": parameter_table(net), "macs": bit_macs(net, inputs)}
    if latency:
        result["latency_ms"] = bit_latency(net, inputs, device, runs, warmup, amp)
    return result


def format_report(title: str, result: dict[str, Any]) -> str:
    """Human-readable tables of a :func:`profile_bit` result."""
    lines = [f"== {title}", f"{'block':<32}{'params':>12}{'trainable':>12}"]
    for name, (total, trainable) in result["params"].items():
        lines.append(f"{name:<32}{total / 1e6:>11.3f}M{trainable / 1e6:>11.3f}M")
    lines.append(f"{'MACs (batch 1)':<32}{'GMACs':>12}")
    for name, macs in result["macs"].items():
        lines.append(f"{name:<32}{macs / 1e9:>12.3f}")
    if "latency_ms" in result:
        lines.append(f"{'latency (median)':<32}{'ms':>12}")
        for name, ms in result["latency_ms"].items():
            lines.append(f"{name:<32}{ms:>12.2f}")
        lines.append(f"{'frames/s (end-to-end)':<32}{1000 / result['latency_ms']['end-to-end frame']:>12.1f}")
    return "\n".join(lines)


def load_jcat_experiment(name: str, overrides: Sequence[str] = ()) -> Any:
    """``experiments/jcat/<name>.yaml`` (the crop size lives in ``tracking.segmentation``)."""
    return load_experiment("jcat", name, overrides)


def profile_jcat(experiment: Any, device: torch.device, runs: int, warmup: int, amp: bool,
                 latency: bool = True) -> dict[str, Any]:
    """Parameters, MACs and (optionally) latencies of one JCAT config: per frame the search crop's
    backbone and the segmentation head against the reference features (cached at init)."""
    from ltr.models.jcat import jcat_kwargs

    torch.manual_seed(0)
    net = NETWORKS.build("jcat", **without_pretrained(jcat_kwargs(experiment.model))).eval().to(device)
    crop = experiment.tracking.segmentation.output_size
    image = torch.randn(1, 3, crop, crop, device=device)
    mask = torch.zeros(1, 1, crop, crop, device=device)
    mask[..., crop // 3: 2 * crop // 3, crop // 3: 2 * crop // 3] = 1
    dist = torch.rand(1, 1, crop, crop, device=device)
    with torch.no_grad():
        reference = net.extract_features(image.flip(-1))
        search = net.extract_features(image)
    macs: OrderedDict[str, int] = OrderedDict()
    macs["search backbone"] = count_macs(lambda: net.extract_features(image))
    macs["segmentation head"] = count_macs(lambda: net.segment(search, reference, mask, dist))
    macs["per frame"] = macs["search backbone"] + macs["segmentation head"]
    result: dict[str, Any] = {"params": parameter_table(net), "macs": macs}
    if latency:
        with autocast_context(device, amp):
            times = OrderedDict([
                ("backbone", median_ms(lambda: net.extract_features(image), device, runs, warmup)),
                ("segmentation head", median_ms(lambda: net.segment(search, reference, mask, dist), device, runs,
                                                warmup)),
            ])
            times["sum of stages"] = sum(times.values())
            times["end-to-end frame"] = median_ms(
                lambda: net.segment(net.extract_features(image), reference, mask, dist), device, runs, warmup)
        result["latency_ms"] = times
    return result


PROFILERS = {"bit": (load_bit_config, profile_bit), "jcat": (load_jcat_experiment, profile_jcat)}


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tracker", choices=sorted(PROFILERS), help="tracker network to profile")
    parser.add_argument("config", help="experiment name under experiments/<tracker>/ (or a YAML path)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. model.backbone=resnet50 (repeatable)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per stage (median reported)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed warm-up runs per stage")
    parser.add_argument("--amp", action="store_true",
                        help="time under autocast (bf16 on CUDA, fp16 on GPUs without it; bf16 on CPUs with native "
                             "bf16; refused on other CPUs)")
    parser.add_argument("--no-latency", action="store_true", help="only count parameters and MACs")
    args = parser.parse_args(argv)
    load_config, profile = PROFILERS[args.tracker]
    try:
        cfg = load_config(args.config, args.overrides)
    except ConfigError as err:
        parser.error(str(err))
    if args.runs < 1 or args.warmup < 0:
        raise ValueError(f"--runs must be at least 1 and --warmup at least 0 (got {args.runs}, {args.warmup})")
    device = resolve_device(args.device)
    try:
        autocast_context(device, args.amp)
    except ValueError as err:
        parser.error(str(err))
    result = profile(cfg, device, args.runs, args.warmup, args.amp, latency=not args.no_latency)
    precision = "amp" if args.amp else "fp32"
    print(format_report(f"{args.tracker}/{args.config} on {device} ({precision}, "
                        f"{torch.get_num_threads()} threads)", result))
    return 0


def cli(argv: list[str] | None = None) -> int:
    """Console entry: :func:`main` with one-line errors for bad input (``--debug`` shows the traceback)."""
    from ltr.admin.cli_errors import run_cli

    return run_cli(main, argv)


if __name__ == "__main__":
    sys.exit(cli())
