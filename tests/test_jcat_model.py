"""JCAT network: every block against an independent computation, the release layout, the tracker API.

The references below are written from jcat.md alone (explicit loops, per-head matmuls,
F.conv2d with the module's weights) and share no code with ``ltr.models.jcat``.
"""
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from ltr.config.loader import ConfigError, from_dict
from ltr.models.jcat import JcatModelConfig, JcatNet, jcat_kwargs
from ltr.models.jcat.attention import AttentionFusion, CrossAttentionBlock, attend
from ltr.models.jcat.blocks import conv, conv_no_relu, upsample2x
from ltr.models.jcat.correlation import fg_probability, merge_memory, similarity_maps
from ltr.models.jcat.head import JcatHead
from ltr.models.registry import NETWORKS

RELEASE_KEYS = Path(__file__).resolve().parents[1] / "ltr" / "models" / "jcat" / "release_keys.txt"
SPEC_KEYS = Path("/work/shared/specs/jcat_keys.txt")
R50_DIMS = (64, 256, 512, 1024)
R18_DIMS = (64, 64, 128, 256)
EPS = 1e-5  # BatchNorm2d / LayerNorm default


# ---------------------------------------------------------------------------------------
# Independent references


def parse_keys(path):
    """{name: shape} from a ``name (d0, d1, ...)`` listing."""
    shapes = {}
    for line in path.read_text().splitlines():
        name, shape = line.split(" ", 1)
        shapes[name] = tuple(int(d) for d in shape.strip("()").split(",") if d.strip())
    return shapes


def ref_conv_block(x, sd, prefix, relu, padding):
    """Conv2d + eval BatchNorm (+ ReLU) from raw state_dict tensors."""
    y = F.conv2d(x, sd[f"{prefix}.0.weight"], sd[f"{prefix}.0.bias"], padding=padding)
    mean, var = sd[f"{prefix}.1.running_mean"], sd[f"{prefix}.1.running_var"]
    gamma, beta = sd[f"{prefix}.1.weight"], sd[f"{prefix}.1.bias"]
    y = (y - mean[:, None, None]) / torch.sqrt(var[:, None, None] + EPS) * gamma[:, None, None] + beta[:, None, None]
    return y.clamp_min(0) if relu else y


def ref_similarity(test, train, mask_small, k):
    """pos/neg maps by explicit loops: cosine of each test position with each train position."""
    b_, _, h, w = test.shape
    weights = mask_small.flatten(1)
    train_vecs = train.flatten(2)
    pos = torch.zeros(b_, h, w, dtype=torch.float64)
    neg = torch.zeros(b_, h, w, dtype=torch.float64)
    for b in range(b_):
        for i in range(h):
            for j in range(w):
                t = test[b, :, i, j].double()
                sims = []
                for n in range(train_vecs.shape[-1]):
                    r = train_vecs[b, :, n].double()
                    sims.append(float(t @ r / (t.norm() * r.norm())))
                wp = sorted((s * float(weights[b, n]) for n, s in enumerate(sims)), reverse=True)
                wn = sorted((s * (1 - float(weights[b, n])) for n, s in enumerate(sims)), reverse=True)
                pos[b, i, j] = sum(wp[:k]) / k
                neg[b, i, j] = sum(wn[:k]) / k
    return pos.float(), neg.float()


def ref_softmax_fg(pos, neg):
    return torch.exp(pos) / (torch.exp(pos) + torch.exp(neg))


def ref_layer_norm(x, weight, bias):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + EPS) * weight + bias


def ref_cross_attention(q_in, kv_in, sd, prefix="", heads=8):
    """Eval-mode JCAT attention block with explicit per-head matmuls."""
    def lin(x, name):
        return x @ sd[f"{prefix}{name}.weight"].T + sd[f"{prefix}{name}.bias"]

    q, k, v = lin(q_in, "fcq"), lin(kv_in, "fck"), lin(kv_in, "fcv")
    d = q.shape[-1] // heads
    outs = []
    for h in range(heads):
        cols = slice(h * d, (h + 1) * d)
        scores = q[..., cols] @ k[..., cols].transpose(-1, -2) / math.sqrt(d)
        outs.append(torch.softmax(scores, dim=-1) @ v[..., cols])
    out = lin(torch.cat(outs, dim=-1), "fco")
    x = ref_layer_norm(q_in + out, sd[f"{prefix}norm1.weight"], sd[f"{prefix}norm1.bias"])
    ffn = lin(lin(x, "linear1").clamp_min(0), "linear2")
    return ref_layer_norm(x + ffn, sd[f"{prefix}norm2.weight"], sd[f"{prefix}norm2.bias"])


def ref_up(x):
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def ref_head(sd, test, train, mask, dist, memory=(), k=3):
    """The whole head per jcat.md with F.conv2d on the same weights; masks/dist at 16x the layer3 grid."""
    def cb(x, name, relu=True, padding=1):
        return ref_conv_block(x, sd, name, relu, padding)

    def pos_feat(l3):
        return cb(cb(l3, "segment0", padding=0), "segment1", relu=False)

    def shrink(m):  # nearest resize by 1/16: source index floor(16 * i)
        return m[:, :, ::16, ::16]

    t = pos_feat(test["layer3"])
    pos, neg = ref_similarity(t, pos_feat(train["layer3"]), shrink(mask), k)
    fg = ref_softmax_fg(pos, neg)
    for feats, m in memory:
        p, n = ref_similarity(t, pos_feat(feats["layer3"]), shrink(m), k)
        pos, neg = torch.maximum(pos, p), torch.maximum(neg, n)
    if memory:
        fg = torch.maximum(ref_softmax_fg(pos, neg), fg)
    mixed = cb(cb(torch.cat([fg[:, None], pos[:, None], shrink(dist)], 1), "mixer0"), "mixer1", relu=False)

    def sem(l3):
        return cb(cb(l3, "fusion0", padding=0), "fusion1", relu=False)

    f1, f2 = sem(train["layer3"]), sem(test["layer3"])
    b, c, h, w = f2.shape
    f1, f2 = f1.flatten(2).transpose(1, 2), f2.flatten(2).transpose(1, 2)
    f11 = ref_cross_attention(f1, f2, sd, "fusion.cross_att1.")
    f21 = ref_cross_attention(f2, f1, sd, "fusion.cross_att2.")
    f22 = ref_cross_attention(f21, f11, sd, "fusion.cross_att3.").transpose(1, 2).reshape(b, c, h, w)

    out = cb(cb(ref_up(cb(cb(f22, "f3_0"), "f3_1", relu=False) + mixed), "s3_0"), "s3_1", relu=False)
    for skip, fa, post in (("layer2", "f2", "post2"), ("layer1", "f1", "post1"), ("conv1", "f0", "post0")):
        x = ref_up(cb(cb(test[skip], f"{fa}_0"), f"{fa}_1", relu=False) + out).clamp_min(0)
        out = cb(cb(x, f"{post}_0"), f"{post}_1", relu=False)
    return out


# ---------------------------------------------------------------------------------------
# Fixtures / helpers


def randomize_bn(module, seed=0):
    """Non-trivial BatchNorm statistics and affine params so the BN arithmetic is exercised."""
    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.LayerNorm)):
            with torch.no_grad():
                m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=g))
                    m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))


def tap_features(dims, grid, batch=2, seed=0):
    """Random taps conv1/layer1/layer2/layer3 at 8/4/2/1 times a ``grid`` layer3 size."""
    g = torch.Generator().manual_seed(seed)
    h, w = grid
    scales = {"conv1": 8, "layer1": 4, "layer2": 2, "layer3": 1}
    return {tap: torch.randn(batch, c, h * s, w * s, generator=g)
            for (tap, s), c in zip(scales.items(), dims)}


def binary_mask(batch, size, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, 1, *size, generator=g) > 0.5).float()


@pytest.fixture(scope="module")
def r50_net():
    torch.manual_seed(0)
    return JcatNet(JcatModelConfig(backbone="resnet50")).eval()


# ---------------------------------------------------------------------------------------
# Blocks


@pytest.mark.parametrize("block, relu, k", [(conv, True, 3), (conv_no_relu, False, 1)])
def test_conv_blocks_have_release_keys_and_arithmetic(block, relu, k):
    torch.manual_seed(0)
    m = block(5, 7, k)
    assert list(m.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                    "1.running_var", "1.num_batches_tracked"]
    assert m[0].padding == (k // 2, k // 2) and m[0].bias is not None
    randomize_bn(m)
    m.eval()
    x = torch.randn(2, 5, 6, 6)
    sd = {f"x.{key}": v for key, v in m.state_dict().items()}
    expected = ref_conv_block(x, sd, "x", relu, k // 2)
    torch.testing.assert_close(m(x), expected, rtol=1e-5, atol=1e-5)


def test_similarity_maps_match_explicit_loops():
    g = torch.Generator().manual_seed(1)
    test, train = torch.randn(2, 5, 3, 4, generator=g), torch.randn(2, 5, 3, 3, generator=g)
    mask = binary_mask(2, (6, 6), seed=2)  # nearest 6 -> 3 keeps rows/cols 0, 2, 4
    pos, neg = similarity_maps(test, train, mask, topk=3)
    ref_pos, ref_neg = ref_similarity(test, train, mask[:, :, ::2, ::2], 3)
    torch.testing.assert_close(pos, ref_pos, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(neg, ref_neg, rtol=1e-5, atol=1e-6)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(2, 4), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_similarity_maps_any_shape_and_soft_mask(channels, test_side, train_side, k, seed):
    k = min(k, train_side * train_side)
    g = torch.Generator().manual_seed(seed)
    test = torch.randn(1, channels, test_side, test_side + 1, generator=g)
    train = torch.randn(1, channels, train_side, train_side, generator=g)
    mask = torch.rand(1, 1, train_side, train_side, generator=g)  # soft weights, same grid: no resize
    pos, neg = similarity_maps(test, train, mask, topk=k)
    ref_pos, ref_neg = ref_similarity(test, train, mask, k)
    torch.testing.assert_close(pos, ref_pos, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(neg, ref_neg, rtol=1e-5, atol=1e-5)


def test_topk_larger_than_reference_is_a_clear_error():
    with pytest.raises(ValueError, match="topk=5 exceeds the 4 reference positions"):
        similarity_maps(torch.randn(1, 2, 2, 2), torch.randn(1, 2, 2, 2), torch.ones(1, 1, 2, 2), topk=5)


def test_fg_probability_is_the_two_way_softmax():
    pos, neg = torch.randn(2, 3, 3), torch.randn(2, 3, 3)
    torch.testing.assert_close(fg_probability(pos, neg), ref_softmax_fg(pos, neg))


def test_memory_merge_rule():
    g = torch.Generator().manual_seed(3)
    ref = (torch.randn(2, 3, 3, generator=g), torch.randn(2, 3, 3, generator=g))
    pos, neg, fg = merge_memory(ref, [])
    assert pos is ref[0] and neg is ref[1]
    torch.testing.assert_close(fg, ref_softmax_fg(*ref))
    stored = [(torch.randn(2, 3, 3, generator=g), torch.randn(2, 3, 3, generator=g)) for _ in range(3)]
    pos, neg, fg = merge_memory(ref, stored)
    for idx in [(0, 0, 0), (1, 2, 1), (0, 1, 2)]:
        p = max(float(m[0][idx]) for m in [ref, *stored])
        n = max(float(m[1][idx]) for m in [ref, *stored])
        assert pos[idx].item() == pytest.approx(p) and neg[idx].item() == pytest.approx(n)
        merged = math.exp(p) / (math.exp(p) + math.exp(n))
        own = math.exp(ref[0][idx]) / (math.exp(ref[0][idx]) + math.exp(ref[1][idx]))
        assert fg[idx].item() == pytest.approx(max(merged, own), rel=1e-5)


def test_cross_attention_matches_per_head_matmuls():
    torch.manual_seed(4)
    block = CrossAttentionBlock(d_model=64, hidden=512, nheads=8, dropout=0.1)
    randomize_bn(block)
    block.eval()
    q, kv = torch.randn(2, 5, 64), torch.randn(2, 7, 64)
    torch.testing.assert_close(block(q, kv), ref_cross_attention(q, kv, block.state_dict()), rtol=1e-4, atol=1e-5)
    assert [n for n, _ in block.named_parameters()] == [
        f"{m}.{p}" for m in ("fcq", "fck", "fcv", "fco", "linear1", "linear2", "norm1", "norm2") for p in ("weight", "bias")]


def test_bf16_cpu_attention_matches_the_fp32_formula_as_closely_as_the_fused_kernel():
    """In bf16 on a CPU :func:`attend` takes explicit matmuls; their error against the fp32
    formula is of bf16's size and comparable to the fused kernel's in bf16."""
    gen = torch.Generator().manual_seed(6)
    q, k, v = (torch.randn(1, 8, 96, 64, generator=gen) for _ in range(3))
    exact = torch.softmax(q.double() @ k.double().transpose(-1, -2) * 0.125, dim=-1) @ v.double()
    bf = [t.bfloat16() for t in (q, k, v)]
    ours = (attend(*bf, 0.125).double() - exact).abs().max().item()
    fused = (F.scaled_dot_product_attention(*bf, scale=0.125).double() - exact).abs().max().item()
    assert ours < 0.03 and ours < 4 * fused + 1e-3
    assert (attend(q, k, v, 0.125).double() - exact).abs().max().item() < 1e-5  # fp32: the fused kernel


def test_attention_dropout_is_active_only_in_training():
    torch.manual_seed(5)
    block = CrossAttentionBlock(dropout=0.1)
    q, kv = torch.randn(1, 6, 64), torch.randn(1, 6, 64)
    block.train()
    assert not torch.equal(block(q, kv), block(q, kv))
    block.eval()
    assert torch.equal(block(q, kv), block(q, kv))
    no_drop = CrossAttentionBlock(dropout=0.0)
    no_drop.load_state_dict(block.state_dict())
    torch.testing.assert_close(no_drop.train()(q, kv), block(q, kv))


def test_attention_fusion_wiring_and_test_grid():
    torch.manual_seed(6)
    fusion = AttentionFusion().eval()
    train, test = torch.randn(2, 64, 2, 3), torch.randn(2, 64, 3, 3)
    out = fusion(train, test)
    assert out.shape == test.shape
    sd = fusion.state_dict()
    f1, f2 = train.flatten(2).transpose(1, 2), test.flatten(2).transpose(1, 2)
    f11 = ref_cross_attention(f1, f2, sd, "cross_att1.")
    f21 = ref_cross_attention(f2, f1, sd, "cross_att2.")
    f22 = ref_cross_attention(f21, f11, sd, "cross_att3.")
    torch.testing.assert_close(out, f22.transpose(1, 2).reshape(2, 64, 3, 3), rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------------
# The head


@pytest.mark.parametrize("dims", [R18_DIMS, R50_DIMS], ids=["resnet18", "resnet50"])
def test_head_matches_functional_reference(dims):
    torch.manual_seed(7)
    head = JcatHead(dims)
    randomize_bn(head)
    head.eval()
    test, train = tap_features(dims, (3, 3), seed=1), tap_features(dims, (3, 3), seed=2)
    mask, dist = binary_mask(2, (48, 48), 3), torch.rand(2, 1, 48, 48)
    with torch.no_grad():
        out = head(test, train, mask, dist)
        expected = ref_head(head.state_dict(), test, train, mask, dist)
    assert out.shape == (2, 2, 48, 48)
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-4)


def test_memory_bank_follows_the_max_rule():
    torch.manual_seed(8)
    head = JcatHead(R18_DIMS)
    randomize_bn(head)
    head.eval()
    test, train = tap_features(R18_DIMS, (3, 3), 1, seed=1), tap_features(R18_DIMS, (3, 3), 1, seed=2)
    mask, dist = binary_mask(1, (48, 48), 3), torch.rand(1, 1, 48, 48)
    memory = [(tap_features(R18_DIMS, (3, 3), 1, seed=10 + i), binary_mask(1, (48, 48), 20 + i)) for i in range(2)]
    with torch.no_grad():
        single = head(test, train, mask, dist)
        assert torch.equal(head(test, train, mask, dist, memory=[]), single)
        with_memory = head(test, train, mask, dist, memory=memory)
        expected = ref_head(head.state_dict(), test, train, mask, dist, memory=memory)
        assert torch.equal(head(test, train, mask, dist, memory=[(train, mask)]), single)  # max with itself
    torch.testing.assert_close(with_memory, expected, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(with_memory, single)


def test_attention_branch_ignores_the_memory_bank():
    torch.manual_seed(9)
    head = JcatHead(R18_DIMS).eval()
    test, train = tap_features(R18_DIMS, (3, 3), 1, seed=1), tap_features(R18_DIMS, (3, 3), 1, seed=2)
    calls = []
    fuse = head.fusion.fuse_tokens
    head.fusion.fuse_tokens = lambda f1, f2, shape: (calls.append([f1.clone(), f2.clone()]), fuse(f1, f2, shape))[1]
    memory = [(tap_features(R18_DIMS, (3, 3), 1, seed=5), torch.ones(1, 1, 48, 48))]
    with torch.no_grad():
        head(test, train, torch.ones(1, 1, 48, 48), torch.zeros(1, 1, 48, 48), memory=memory)
        head(test, train, torch.ones(1, 1, 48, 48), torch.zeros(1, 1, 48, 48))
    assert len(calls) == 2 and all(torch.equal(a, b) for a, b in zip(*calls))


def test_init_is_kaiming_fan_in_with_zero_biases():
    torch.manual_seed(10)
    head = JcatHead(R50_DIMS)
    layers = [m for m in head.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert len(layers) == 22 + 18  # 22 conv blocks, 3 attention blocks × 6 linears
    assert all(torch.count_nonzero(m.bias) == 0 for m in layers)
    for weight, fan_in in ((head.segment0[0].weight, 1024), (head.f2_0[0].weight, 512 * 9),
                           (head.fusion.cross_att1.fcq.weight, 64), (head.fusion.cross_att2.linear2.weight, 512)):
        assert weight.std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.05)


# ---------------------------------------------------------------------------------------
# The whole network


def test_state_dict_equals_release_layout_and_loads_strictly(r50_net):
    expected = parse_keys(RELEASE_KEYS)
    assert len(expected) == 522
    if SPEC_KEYS.is_file():
        assert SPEC_KEYS.read_text() == RELEASE_KEYS.read_text(), "packaged release_keys.txt differs from the spec"
    own = r50_net.state_dict()
    assert list(own) == list(expected)
    assert {k: tuple(v.shape) for k, v in own.items()} == expected
    g = torch.Generator().manual_seed(11)
    release = {}
    for name, shape in expected.items():
        if name.endswith("num_batches_tracked"):
            release[name] = torch.tensor(1234, dtype=torch.int64)
        elif name.endswith("running_var"):
            release[name] = 0.5 + torch.rand(shape, generator=g)
        else:
            release[name] = 0.05 * torch.randn(shape, generator=g)
    fresh = JcatNet(JcatModelConfig())
    fresh.load_state_dict(release, strict=True)
    assert all(torch.equal(fresh.state_dict()[k], v) for k, v in release.items())


def test_full_resnet50_forward_at_384(r50_net):
    g = torch.Generator().manual_seed(12)
    image = torch.randn(1, 3, 384, 384, generator=g)
    mask = torch.zeros(1, 384, 384)
    mask[:, 150:230, 140:250] = 1
    with torch.no_grad():
        feats = r50_net.extract_features(image)
        assert {k: tuple(v.shape) for k, v in feats.items()} == {
            "conv1": (1, 64, 192, 192), "layer1": (1, 256, 96, 96),
            "layer2": (1, 512, 48, 48), "layer3": (1, 1024, 24, 24)}
        logits = r50_net.segment(feats, feats, mask, torch.rand(1, 384, 384))
    assert logits.shape == (1, 2, 384, 384) and torch.isfinite(logits).all()


def test_backbone_is_frozen_and_stays_in_eval_mode():
    torch.manual_seed(13)
    net = JcatNet(JcatModelConfig(backbone="resnet18"))
    net.train()
    assert net.training and net.segm_predictor.training
    assert not any(m.training for m in net.feature_extractor.modules())
    assert not any(p.requires_grad for p in net.feature_extractor.parameters())
    assert all(p.requires_grad for p in net.segm_predictor.parameters())
    stats = {k: v.clone() for k, v in net.feature_extractor.state_dict().items()}
    imgs = torch.randn(2, 3, 64, 64)
    masks = (torch.rand(2, 1, 64, 64) > 0.5).float()
    logits = net(imgs, imgs.flip(-1), masks, torch.rand(2, 1, 64, 64))
    assert logits.shape == (2, 2, 64, 64)
    logits.logsumexp(1).mean().backward()
    assert all(p.grad is not None for p in net.segm_predictor.parameters())
    assert all(p.grad is None for p in net.feature_extractor.parameters())
    assert all(torch.equal(v, stats[k]) for k, v in net.feature_extractor.state_dict().items())


def test_resnet18_variant_dims_and_segment_api():
    torch.manual_seed(14)
    net = NETWORKS.build("jcat", **jcat_kwargs(JcatModelConfig(backbone="resnet18", topk=2))).eval()
    assert isinstance(net, JcatNet)
    head = net.segm_predictor
    assert [head.segment0[0].in_channels, head.fusion0[0].in_channels, head.f2_0[0].in_channels,
            head.f1_0[0].in_channels, head.f0_0[0].in_channels] == [256, 256, 128, 64, 64]
    assert "feature_extractor.layer4.1.conv2.weight" in net.state_dict()
    assert "feature_extractor.fc.weight" in net.state_dict()
    with torch.no_grad():
        train = net.extract_features(torch.randn(1, 3, 64, 64))
        test = net.extract_features(torch.randn(1, 3, 64, 64))
        mask, dist = torch.zeros(1, 64, 64), torch.rand(1, 1, 64, 64)
        mask[:, 16:48, 16:48] = 1
        single = net.segment(test, train, mask, dist)
        assert single.shape == (1, 2, 64, 64)
        assert torch.equal(net.segment(test, train, mask, dist, memory=[]), single)
        # the test frame itself, all target, as a stored sample: pos map rises to self-similarity 1
        assert not torch.equal(net.segment(test, train, mask, dist, memory=[(test, torch.ones(1, 64, 64))]), single)
        with pytest.raises(ValueError, match="train_mask must be"):
            net.segment(test, train, torch.ones(1, 2, 64, 64), dist)


@pytest.mark.parametrize("channels", [4, 32])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
def test_upsampling_gives_the_same_values_in_either_memory_layout(channels, dtype):
    x = torch.randn(1, channels, 12, 10).to(dtype)
    expected = F.interpolate(x.float(), scale_factor=2, mode="bilinear", align_corners=False)
    for layout in (torch.contiguous_format, torch.channels_last):
        out = upsample2x(x.contiguous(memory_format=layout))
        assert out.dtype == dtype and out.shape == (1, channels, 24, 20)
        torch.testing.assert_close(out.float(), expected, rtol=0, atol=0 if dtype == torch.float32 else 0.02)


@pytest.mark.parametrize("autocast", [False, True], ids=["fp32", "bf16"])
def test_prepared_reference_and_memory_give_segments_logits_exactly(autocast):
    """``segment_prepared`` with the reference and memory prepared once equals ``segment``, which
    derives them on every call, bit for bit (the same operations in the same order)."""
    torch.manual_seed(11)
    net = NETWORKS.build("jcat", **jcat_kwargs(JcatModelConfig(backbone="resnet18", topk=2))).eval()
    mask, dist = torch.zeros(1, 64, 64), torch.rand(1, 1, 64, 64)
    mask[:, 10:40, 20:50] = 1
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        train, test, stored = (net.extract_features(torch.randn(1, 3, 64, 64)) for _ in range(3))
        memory = [(stored, torch.rand(1, 64, 64) > 0.5), (train, mask)]
        expected = net.segment(test, train, mask, dist, memory)
        reference = net.prepare_reference(train, mask)
        prepared = [net.prepare_memory(feats, m) for feats, m in memory]
        assert torch.equal(net.segment_prepared(test, reference, dist, prepared), expected)
        assert torch.equal(net.segment_prepared(test, reference, dist), net.segment(test, train, mask, dist))


def test_config_fields_are_the_constructor_kwargs_with_ranges():
    cfg = from_dict(JcatModelConfig, {"backbone": "resnet18", "topk": 5})
    assert jcat_kwargs(cfg) == {"backbone": "resnet18", "backbone_weights": None, "topk": 5, "dropout": 0.1}
    with pytest.raises(ConfigError, match="topk"):
        from_dict(JcatModelConfig, {"topk": 0})
    with pytest.raises(ConfigError, match="backbone"):
        from_dict(JcatModelConfig, {"backbone": "resnet101"})
    with pytest.raises(ConfigError, match="unknown key 'segm_dim'"):
        from_dict(JcatModelConfig, {"segm_dim": 32})
    with pytest.raises(ValueError, match="backbone 'vgg'"):
        JcatModelConfig(backbone="vgg")


def test_backbone_weights_load_from_a_local_torchvision_file(tmp_path):
    import torchvision

    torch.manual_seed(15)
    reference = torchvision.models.resnet18(weights=None)
    path = tmp_path / "resnet18.pth"
    torch.save(reference.state_dict(), path)
    net = JcatNet(JcatModelConfig(backbone="resnet18", backbone_weights=str(path)))
    ours = net.feature_extractor.state_dict()
    for key, value in reference.state_dict().items():
        if not key.startswith("fc."):
            assert torch.equal(ours[key], value), key
    assert not any(p.requires_grad for p in net.feature_extractor.parameters())


def test_config_built_in_code_is_range_checked_too():
    with pytest.raises(ValueError, match=r"topk 0 must be in \[1, 64\]; dropout 1.5 must be in \[0.0, 0.9\]"):
        JcatModelConfig(topk=0, dropout=1.5)
