"""The BIT network: block shapes, design switches, gradients per training stage, STARK init,
the CNN+ViT variant, checkpoint round trip, padding masks, configs and the profiler."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torchvision.ops.misc import FrozenBatchNorm2d

from ltr.admin.checkpoint import build_network_from_checkpoint, save_checkpoint
from ltr.config.loader import ConfigError, from_dict
from ltr.models.backbone.vit import ViTBackbone
from ltr.models.backbone.pretrained import without_pretrained
from ltr.models.bit import BitModelConfig, bit_kwargs
from ltr.models.bit.stark_init import load_stark_weights
from ltr.models.bit.template_correlation import similarity, target_region
from ltr.models.registry import BACKBONES, NETWORKS
from ltr.profile_model import load_bit_config

ROOT = Path(__file__).resolve().parents[1]
SPECS = Path("/work/shared/specs")
B = 2


# the ResNet-18 these tests check BIT's backbone plumbing with (STARK's layout, layer freezing,
# stride 8); the shipped bit/tiny runs a frozen EfficientNet-Lite0 (test_tiny_config_backbone_...)
RESNET18 = {"backbone": "resnet18", "backbone_weights": "none", "backbone_frozen_layers": "[]"}


def tiny(**changes) -> BitModelConfig:
    """experiments/bit/tiny.yaml on a random-init ResNet-18, with field changes."""
    return load_bit_config("tiny", [f"model.{k}={v}" for k, v in {**RESNET18, **changes}.items()])


def build(cfg: BitModelConfig):
    torch.manual_seed(0)
    return NETWORKS.build("bit", **without_pretrained(bit_kwargs(cfg)))  # tests never download


def crops(cfg: BitModelConfig, batch: int = B):
    """Random template pair + search crops with empty padding masks."""
    zs, xs = cfg.template_size, cfg.search_size
    templates = [torch.randn(batch, 3, zs, zs) for _ in range(2)]
    template_masks = [torch.zeros(batch, zs, zs, dtype=torch.bool) for _ in range(2)]
    return templates, template_masks, torch.randn(batch, 3, xs, xs), torch.zeros(batch, xs, xs, dtype=torch.bool)


@pytest.fixture(scope="module")
def tiny_net():
    return build(tiny()).eval()


def stark_state(key_file: Path) -> dict:
    """Random tensors in the shapes listed by a STARK key file."""
    state = {}
    for line in key_file.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, shape = line.split(" ", 1)
        dims = tuple(int(d) for d in re.findall(r"\d+", shape))
        state[name] = torch.randint(0, 5, dims) if name.endswith("num_batches_tracked") else torch.randn(dims)
    return state


# ---------------------------------------------------------------- shapes of every block


def test_block_shapes(tiny_net):
    cfg = tiny_net.cfg
    z, zm, x, xm = crops(cfg)
    with torch.no_grad():
        templates = [tiny_net.forward_backbone(zi, mi) for zi, mi in zip(z, zm)]
        search = tiny_net.forward_backbone(x, xm)
        hz, hx = cfg.template_size // cfg.backbone_stride, cfg.search_size // cfg.backbone_stride
        assert search["feat"].shape == (B, cfg.d_model, hx, hx)
        assert search["pos"].shape == (B, cfg.d_model, hx, hx) and search["mask"].shape == (B, hx, hx)
        assert templates[0]["feat"].shape == (B, cfg.d_model, hz, hz)
        enc = tiny_net.encode(templates, search)
        n = 2 * hz * hz + hx * hx
        assert len(enc["levels"]) == len(cfg.mdai_levels)
        assert all(level.shape == (n, B, cfg.d_model) for level in enc["levels"])
        assert enc["pos"].shape == (n, B, cfg.d_model) and enc["mask"].shape == (B, n)
        tokens = tiny_net.aggregate(enc["levels"], enc["pos"], enc["mask"])
        assert tokens.shape == (n, B, cfg.d_model)
        f = tiny_net.interact(tokens, enc["pos"], enc["mask"], search)
        assert f.shape == (B, cfg.d_model, hx, hx)
        out = tiny_net.predict(f, tokens, enc["pos"], enc["mask"], run_box_head=True, run_score_head=True)
    assert out["pred_boxes"].shape == (B, 4) and out["score_logits"].shape == (B, 1)
    assert out["score_map_tl"].shape == (B, 1, hx, hx)


def test_default_layout_matches_stark_shared_names():
    names = set(build(load_bit_config("default")).state_dict())
    assert "backbone.0.body.layer3.22.conv3.weight" in names
    assert {"bottleneck.weight", "transformer.encoder.layers.5.self_attn.in_proj_weight",
            "box_head.conv5_br.weight", "cls_head.layers.2.bias"} <= names
    assert not any(n.startswith(("transformer.decoder", "query_embed")) for n in names)


VARIANTS = [
    dict(dsa_shared=True),
    dict(dsa_dual=True),
    dict(dca_mode="weighted"),
    dict(mdai=False),
    dict(ctif_directions="a"),
    dict(ctif_directions="b", ctif_keys="all"),
    dict(ctif_directions="none"),
    dict(fusion="add"),
    dict(fusion="conv3x3"),
    dict(fusion="gate"),
    dict(ctif_cnn_feature="layer3"),
    dict(score_head="roi_token"),
    dict(decoder=True, dec_layers=2, score_head="query"),
    dict(decoder=True, dec_layers=1),
    dict(transformer_source="vit", vit="vit_tiny", ctif_cnn_feature="layer3", dca_mode="weighted",
         backbone_stride=16),
    dict(backbone_stride=16),
]


@pytest.mark.parametrize("changes", VARIANTS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_design_switches_run(changes):
    cfg = tiny(**changes)
    net = build(cfg).eval()
    with torch.no_grad():
        out = net(*crops(cfg), run_score_head=True)
    hx = cfg.search_size // cfg.backbone_stride
    assert out["f"].shape == (B, cfg.d_model, hx, hx)
    assert out["pred_boxes"].shape == (B, 4) and out["score_logits"].shape == (B, 1)
    assert torch.isfinite(out["pred_boxes"]).all() and torch.isfinite(out["score_logits"]).all()


def test_backbone_is_resnet_to_layer3_with_frozen_bn(tiny_net):
    body = tiny_net.backbone[0].body
    assert not hasattr(body, "layer4") and body.strides == {"layer3": tiny_net.cfg.backbone_stride}
    assert isinstance(body.layer2[0].bn1, FrozenBatchNorm2d)


def test_stride_8_backbone_is_the_stride_16_one_without_layer3_subsampling():
    """Same weights, same keys; layer3's first convolutions at stride 1 give the stride-2 outputs
    at every second position (checked per convolution against the plain stride-2 conv)."""
    # the template correlation's width follows the template map's size, so it is left out here
    coarse = build(tiny(backbone_stride=16, template_correlation=False))
    fine = build(tiny(backbone_stride=8, template_correlation=False))
    assert {k: v.shape for k, v in coarse.state_dict().items()} == {k: v.shape for k, v in fine.state_dict().items()}
    fine.load_state_dict(coarse.state_dict())
    block16, block8 = coarse.backbone[0].body.layer3[0], fine.backbone[0].body.layer3[0]
    x = torch.randn(1, 128, 16, 16)
    for conv16, conv8 in ((block16.conv1, block8.conv1), (block16.downsample[0], block8.downsample[0])):
        assert conv16.stride == (2, 2) and conv8.stride == (1, 1)
        torch.testing.assert_close(conv8(x)[..., ::2, ::2], conv16(x))
    images, masks = torch.randn(1, 3, 64, 64), torch.zeros(1, 64, 64, dtype=torch.bool)
    with torch.no_grad():
        assert coarse.forward_backbone(images, masks)["feat"].shape[-2:] == (4, 4)
        assert fine.forward_backbone(images, masks)["feat"].shape[-2:] == (8, 8)
    search = fine.cfg.search_size
    assert (fine.box_head.feat_sz, fine.box_head.stride) == (search // 8, 8)
    assert (coarse.box_head.feat_sz, coarse.box_head.stride) == (search // 16, 16)


def test_tiny_config_backbone_is_a_frozen_imagenet_efficientnet_at_stride_8():
    """The shipped bit/tiny: EfficientNet-Lite0 with the packaged ImageNet weights, every backbone
    weight frozen, layer3 at stride 8 (20x20 map of the 160 px search crop); stage 1 trains
    everything after it."""
    cfg = load_bit_config("tiny")
    assert (cfg.backbone, cfg.backbone_weights, cfg.backbone_stride) == ("efficientnet_lite0", "imagenet", 8)
    torch.manual_seed(0)
    net = NETWORKS.build("bit", **bit_kwargs(cfg)).train()
    body = net.backbone[0].body
    assert type(body).__name__ == "EfficientNetLiteBackbone" and net.backbone.num_channels == 112
    assert not any(p.requires_grad for p in body.parameters())
    net.freeze_for_stage(1)
    out = net(*crops(cfg))
    assert cfg.search_size == 160 and out["score_map_tl"].shape[-2:] == (20, 20)
    out["pred_boxes"].sum().backward()
    assert all(p.grad is None for p in body.parameters())
    assert all(p.grad is not None for n, p in net.named_parameters() if n.startswith(("bottleneck.", "box_head.")))


def test_switches_change_the_modules():
    assert build(tiny(mdai=False)).mdai is None
    assert len(build(tiny(dsa_shared=True)).mdai.dsa) == 1
    net = build(tiny(ctif_directions="a"))
    assert net.ctif.c2t is None and net.ctif.fusion is None
    assert build(tiny(ctif_cnn_feature="layer3")).ctif.cnn_proj.in_channels == 256  # resnet18 layer3
    assert build(tiny(transformer_source="vit", vit="vit_tiny", ctif_cnn_feature="layer3",
                      backbone_stride=16)).bottleneck is None


# ---------------------------------------------------------------- gradients per stage


def _frozen_names(net):
    return {n for n, p in net.named_parameters() if n not in net._trainable}


@pytest.mark.parametrize("changes", [{}, dict(score_head="roi_token", dsa_dual=True)])
def test_stage1_gradients_reach_all_but_score_head(changes):
    cfg = tiny(**changes, backbone_frozen_layers=["conv1", "layer1"])  # STARK's (bit/default) freezing
    net = build(cfg).train()
    net.freeze_for_stage(1)
    out = net(*crops(cfg))
    (out["pred_boxes"].sum() + out["score_map_tl"].mean()).backward()
    stage = net.stage_parameters(1)
    assert stage and not any(n.startswith(("cls_head", "cls_pool")) for n in stage)
    for name, p in net.named_parameters():
        if name in stage:
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
        else:
            assert p.grad is None, name
    frozen = _frozen_names(net)
    assert any(n.startswith("backbone.0.body.conv1") for n in frozen)
    assert any(n.startswith("backbone.0.body.layer1") for n in frozen)
    assert not any(n.startswith("backbone.0.body.layer2") for n in frozen)


def test_backbone_trained_from_scratch_learns_every_layer():
    """``backbone_frozen_layers: []`` + ``backbone_frozen_bn: false`` (random-init training): stage 1
    reaches conv1 and layer1, and BatchNorm is a real, trainable BatchNorm2d."""
    cfg = tiny(backbone_frozen_layers=[], backbone_frozen_bn=False)
    net = build(cfg).train()
    body = net.backbone[0].body
    assert isinstance(body.layer2[0].bn1, torch.nn.BatchNorm2d) and not _frozen_names(net)
    net.freeze_for_stage(1)
    net(*crops(cfg))["pred_boxes"].sum().backward()
    for name in ("conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer3.1.bn2.bias"):
        grad = body.get_parameter(name).grad
        assert grad is not None and grad.abs().sum() > 0, name
    with pytest.raises(ValueError, match="backbone_frozen_layers"):
        tiny(backbone_frozen_layers=["layer4"])


@pytest.mark.parametrize("changes", [{}, dict(score_head="roi_token"),
                                     dict(score_head="roi_token", score_template_tokens=True)])
def test_stage2_gradients_reach_only_score_head(changes):
    cfg = tiny(**changes)
    net = build(cfg).train()
    net.freeze_for_stage(2)
    out = net(*crops(cfg), run_box_head=False, run_score_head=True)
    out["score_logits"].sum().backward()
    stage = net.stage_parameters(2)
    assert stage and all(n.startswith(("cls_head", "cls_pool")) for n in stage)
    for name, p in net.named_parameters():
        if name in stage:
            assert p.grad is not None and p.grad.abs().sum() > 0, name
        else:
            assert p.grad is None, name


def test_stage_must_be_1_or_2(tiny_net):
    with pytest.raises(ValueError, match="stage"):
        tiny_net.stage_parameters(3)


# ---------------------------------------------------------------- STARK initialisation


def _check_stark_load(net, state):
    report = load_stark_weights(net, state)
    own = net.state_dict()
    assert report.missing == []
    assert report.loaded and all(torch.equal(own[k], state[k]) for k in report.loaded)
    assert set(report.unexpected) == {k for k in state if k.startswith(("transformer.decoder", "query_embed"))}
    assert report.new and all(k.startswith(("mdai.", "ctif.")) for k in report.new)


def test_stark_st50_weights_load_into_shared_parts(tmp_path):
    state = stark_state(SPECS / "stark_st50_keys.txt")
    net = build(load_bit_config("r50"))
    _check_stark_load(net, state)
    path = tmp_path / "STARKST_ep0050.pth.tar"
    torch.save({"net": state, "epoch": 50, "net_type": "STARKST"}, path)
    report = load_stark_weights(build(load_bit_config("r50")), path)  # via the restricted reader
    assert len(report.loaded) == len(state) - len(report.unexpected)


@pytest.mark.slow
def test_stark_st101_weights_load_into_shared_parts():
    _check_stark_load(build(load_bit_config("default")), stark_state(SPECS / "stark_st101_keys.txt"))


def test_stark_shape_mismatch_is_refused(tiny_net):
    state = {"bottleneck.weight": torch.zeros(256, 1024, 1, 1), "bottleneck.bias": torch.zeros(256)}
    with pytest.raises(ValueError, match="bottleneck.weight"):
        load_stark_weights(tiny_net, state)


def test_stark_deeper_backbone_is_refused(tiny_net):
    state = {f"backbone.0.body.{k}": v for k, v in tiny_net.backbone[0].body.state_dict().items()}
    state["backbone.0.body.layer3.9.conv1.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match="deeper ResNet"):
        load_stark_weights(tiny_net, state)


# ---------------------------------------------------------------- CNN+ViT variant


def test_vit_variant_runs_and_trains():
    cfg = tiny(transformer_source="vit", vit="vit_tiny", backbone_stride=16)
    net = build(cfg).train()
    assert net.transformer.encoder is None and net.vit.depth == 3
    out = net(*crops(cfg), run_score_head=True)
    assert out["pred_boxes"].shape == (B, 4) and torch.isfinite(out["score_logits"]).all()
    out["pred_boxes"].sum().backward()
    assert net.vit.blocks[0].attn.qkv.weight.grad is not None and net.vit_proj[1].weight.grad is not None


def test_vit_backbone_registered_and_loads_local_timm_weights(tmp_path):
    full = BACKBONES.build("vit", name="vit_tiny")
    path = tmp_path / "vit_tiny.pth"
    torch.save(full.state_dict(), path)
    part = ViTBackbone("vit_tiny", depth=2, weights=str(path))
    assert torch.equal(part.blocks[1].mlp.fc1.weight, full.blocks[1].mlp.fc1.weight)
    tokens = part.embed(torch.randn(1, 3, 64, 96))
    assert tokens.shape == (1, 4 * 6, 192)
    with pytest.raises(ValueError, match="depth"):
        ViTBackbone("vit_tiny", depth=13)


# ---------------------------------------------------------------- checkpoint, padding, configs


def test_checkpoint_round_trip_gives_identical_outputs(tmp_path, tiny_net):
    path = save_checkpoint(tmp_path / "bit.pth", tiny_net, "bit", bit_kwargs(tiny_net.cfg))
    rebuilt = build_network_from_checkpoint(path).eval()
    inputs = crops(tiny_net.cfg)
    with torch.no_grad():
        a = tiny_net(*inputs, run_score_head=True)
        b = rebuilt(*inputs, run_score_head=True)
    assert torch.equal(a["pred_boxes"], b["pred_boxes"]) and torch.equal(a["score_logits"], b["score_logits"])


def test_padded_crops_give_finite_output(tiny_net):
    z, zm, x, xm = crops(tiny_net.cfg)
    zm[0][:, :, :20] = True
    xm[:, :50, :] = True
    xm[1, :, 90:] = True
    x[xm.unsqueeze(1).expand_as(x)] = 0.0
    with torch.no_grad():
        out = tiny_net(z, zm, x, xm, run_score_head=True)
    for key in ("pred_boxes", "score_logits", "f"):
        assert torch.isfinite(out[key]).all(), key


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "experiments" / "bit").glob("*.yaml")))
def test_experiment_model_sections_validate(name):
    cfg = load_bit_config(name)
    assert cfg.search_size % 16 == 0
    if name in ("got10k_only", "r50", "vit_b"):
        assert cfg.backbone in ("resnet50", "resnet101")


@pytest.mark.parametrize("bad,match", [
    (dict(d_model=100, nheads=8), "divisible"),
    (dict(mdai_levels=[5, 7]), "mdai_levels"),
    (dict(mdai_levels=[6]), "at least 2"),
    (dict(score_head="query"), "decoder"),
    (dict(search_size=330), "multiple"),
    (dict(backbone_stride=8, search_size=300), "multiple of the stride 8"),
    (dict(backbone_stride=4), "backbone_stride"),
    (dict(backbone_stride=8, transformer_source="vit"), "16 px patches"),
    (dict(fusion="sum"), "fusion"),
    (dict(dropout=1.5), "range"),
])
def test_invalid_configs_are_refused(bad, match):
    with pytest.raises(ConfigError, match=match):
        from_dict(BitModelConfig, bad)


def test_profiler_script_runs_from_repo_root():
    proc = subprocess.run([sys.executable, "ltr/profile_model.py", "bit", "tiny", "--runs", "1", "--warmup", "0",
                           "--set", "model.d_model=32"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"per frame\s+\d+\.\d+", proc.stdout) and "template backbone (per update)" in proc.stdout
    assert "CTIF" in proc.stdout and "frames/s" in proc.stdout


def test_template_similarity_is_the_cosine_with_each_target_region_position():
    torch.manual_seed(0)
    template, search = torch.randn(2, 5, 8, 8), torch.randn(2, 5, 6, 7)
    assert target_region(template).shape == (2, 5, 4, 4)
    assert target_region(torch.randn(1, 1, 7, 7)).shape[-2:] == (5, 5)  # rows/columns 1..5 of 0..6
    got = similarity(template, search)
    assert got.shape == (2, 16, 6, 7)
    for b in range(2):
        for k, (i, j) in enumerate((i, j) for i in range(2, 6) for j in range(2, 6)):
            expected = torch.nn.functional.cosine_similarity(template[b, :, i, j][:, None, None], search[b], dim=0)
            torch.testing.assert_close(got[b, k], expected, atol=1e-5, rtol=1e-5)


def test_template_correlation_adds_the_match_to_f_and_trains_in_stage_one():
    """On: forward_head is predict(f + correlation(initial template, search)); the block's weights
    train in stage 1 only. Off (bit/default, the paper's net): no such block, f unchanged."""
    assert load_bit_config("default").template_correlation is False
    assert build(tiny(template_correlation=False)).template_correlation is None
    cfg = tiny(template_correlation=True)
    net = build(cfg).eval()
    templates, masks, search, search_mask = crops(cfg)
    with torch.no_grad():
        feats = [net.forward_backbone(t, m) for t, m in zip(templates, masks)]
        search_feat = net.forward_backbone(search, search_mask)
        enc = net.encode(feats, search_feat)
        tokens = net.aggregate(enc["levels"], enc["pos"], enc["mask"])
        f = net.interact(tokens, enc["pos"], enc["mask"], search_feat)
        match = net.template_correlation(feats[0]["feat"], search_feat["feat"])
        expected = net.predict(f + match, tokens, enc["pos"], enc["mask"], run_score_head=True)
        out = net.forward_head(feats, search_feat, run_score_head=True)
    assert match.abs().sum() > 0
    torch.testing.assert_close(out["pred_boxes"], expected["pred_boxes"])
    torch.testing.assert_close(out["score_logits"], expected["score_logits"])
    assert {n for n in net.stage_parameters(1) if n.startswith("template_correlation.")}
    assert not any(n.startswith("template_correlation.") for n in net.stage_parameters(2))


def test_score_token_with_template_tokens_reads_the_initial_template():
    """score_template_tokens: with f and the box fixed, the score moves when only the initial
    template's tokens move; without the switch it does not. Refused without the roi_token head."""
    for use_template in (True, False):
        cfg = tiny(score_head="roi_token", score_template_tokens=use_template)
        net = build(cfg).eval()
        templates, masks, search, search_mask = crops(cfg)
        with torch.no_grad():
            feats = [net.forward_backbone(t, m) for t, m in zip(templates, masks)]
            enc = net.encode(feats, net.forward_backbone(search, search_mask))
            tokens = net.aggregate(enc["levels"], enc["pos"], enc["mask"])
            f = net.interact(tokens, enc["pos"], enc["mask"], net.forward_backbone(search, search_mask))
            count = (cfg.template_size // cfg.backbone_stride) ** 2
            moved = tokens.clone()
            moved[:count] += 1.0
            scores = [net.predict(f, t, enc["pos"], enc["mask"], run_score_head=True)["score_logits"]
                      for t in (tokens, moved)]
        assert scores[0].shape == (B, 1)
        assert torch.allclose(scores[0], scores[1]) != use_template
    with pytest.raises(ValueError, match="score_template_tokens"):
        tiny(score_template_tokens=True)
