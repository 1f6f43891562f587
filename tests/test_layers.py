"""Layers and losses: position encoding, attention blocks, corner head soft-argmax, MLP, losses."""
import math

import pytest
import torch
import torch.nn.functional as F

from ltr.models.layers import (
    MLP,
    ChannelSelfAttention,
    CornerPredictor,
    CrossAttentionLayer,
    PositionEmbeddingSine,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from ltr.models.loss import GIoUL1Loss, score_loss


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_position_encoding_shape_and_values():
    mask = torch.zeros(2, 4, 5, dtype=torch.bool)
    pos = PositionEmbeddingSine(num_pos_feats=8)(mask)
    assert pos.shape == (2, 16, 4, 5)
    # x half (channels 8..15) varies along W only; channel 8 is sin(2π·(j+1)/W).
    assert torch.allclose(pos[:, 8:, 0], pos[:, 8:, 3])
    expected = torch.sin(2 * math.pi * torch.arange(1, 6) / 5)
    assert torch.allclose(pos[0, 8, 0], expected, atol=1e-5)


def test_position_encoding_normalises_over_valid_part():
    mask = torch.zeros(1, 4, 6, dtype=torch.bool)
    mask[..., 3:] = True  # right half padded
    pos = PositionEmbeddingSine(num_pos_feats=8)(mask)
    unpadded = PositionEmbeddingSine(num_pos_feats=8)(torch.zeros(1, 4, 3, dtype=torch.bool))
    assert torch.allclose(pos[..., :3], unpadded, atol=1e-5)


def test_position_encoding_rejects_odd_features():
    with pytest.raises(ValueError, match="even"):
        PositionEmbeddingSine(num_pos_feats=7)


def test_encoder_returns_every_layer_with_stark_names():
    encoder = TransformerEncoder(TransformerEncoderLayer(32, 4, 64, 0.0), num_layers=3)
    src, pos = torch.randn(10, 2, 32), torch.randn(10, 2, 32)
    outs = encoder(src, pos, torch.zeros(2, 10, dtype=torch.bool))
    assert len(outs) == 3 and all(o.shape == (10, 2, 32) for o in outs)
    names = set(dict(encoder.named_parameters()))
    for key in ("self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                "linear1.weight", "linear2.bias", "norm1.weight", "norm2.bias"):
        assert f"layers.0.{key}" in names


def test_padded_keys_do_not_change_attention_output():
    layer = CrossAttentionLayer(16, 2, 32, 0.0).eval()
    query, memory = torch.randn(5, 1, 16), torch.randn(7, 1, 16)
    mask = torch.zeros(1, 7, dtype=torch.bool)
    mask[:, 4:] = True
    changed = memory.clone()
    changed[4:] += 100.0
    with torch.no_grad():
        a = layer(query, memory, memory_padding_mask=mask)
        b = layer(query, changed, memory_padding_mask=mask)
    assert torch.allclose(a, b, atol=1e-5)


def test_decoder_shapes_and_names():
    decoder = TransformerDecoder(TransformerDecoderLayer(16, 2, 32, 0.0), num_layers=2, d_model=16)
    out = decoder(torch.zeros(1, 3, 16), torch.randn(9, 3, 16), query_pos=torch.randn(1, 3, 16))
    assert out.shape == (1, 3, 16)
    names = set(dict(decoder.named_parameters()))
    assert {"layers.1.multihead_attn.in_proj_weight", "layers.0.norm3.weight", "norm.weight"} <= names


def test_channel_attention_starts_silent_and_ignores_padding():
    attn = ChannelSelfAttention()
    x = torch.randn(6, 2, 8)
    assert torch.count_nonzero(attn(x)) == 0
    with torch.no_grad():
        attn.gamma.fill_(1.0)
    mask = torch.zeros(2, 6, dtype=torch.bool)
    mask[:, -2:] = True
    changed = x.clone()
    changed[-2:] = 50.0
    assert torch.allclose(attn(x, mask)[:4], attn(changed, mask)[:4], atol=1e-5)


@pytest.mark.parametrize("row,col", [(0, 0), (3, 5), (7, 2)])
def test_soft_argmax_recovers_peak_cell(row, col):
    head = CornerPredictor(inplanes=8, channel=16, feat_sz=8, stride=16)
    score = torch.full((1, 1, 8, 8), -30.0)
    score[0, 0, row, col] = 30.0
    x, y = head.soft_argmax(score)
    assert torch.allclose(x, torch.tensor([col * 16.0]), atol=1e-3)
    assert torch.allclose(y, torch.tensor([row * 16.0]), atol=1e-3)


def test_corner_head_shapes_and_stark_layout():
    head = CornerPredictor(inplanes=32, channel=32, feat_sz=6, stride=16)
    out = head(torch.randn(2, 32, 6, 6))
    assert out["boxes"].shape == (2, 4) and out["score_map_tl"].shape == (2, 1, 6, 6)
    state = head.state_dict()
    assert "coord_x" not in state and "coord_y" not in state
    assert {"conv1_tl.0.weight", "conv4_br.1.running_var", "conv5_tl.weight"} <= set(state)
    with pytest.raises(ValueError, match="6x6"):
        head(torch.randn(1, 32, 5, 5))


def test_mlp_layout():
    mlp = MLP(16, 16, 1, 3)
    assert mlp(torch.randn(4, 16)).shape == (4, 1)
    assert [tuple(layer.weight.shape) for layer in mlp.layers] == [(16, 16), (16, 16), (1, 16)]


def test_box_loss_zero_for_perfect_prediction():
    gt_xywh = torch.tensor([[0.2, 0.3, 0.4, 0.2], [0.1, 0.1, 0.5, 0.6]])
    pred = torch.cat((gt_xywh[:, :2] + gt_xywh[:, 2:] / 2, gt_xywh[:, 2:]), dim=1)  # cxcywh
    loss, stats = GIoUL1Loss()(pred, gt_xywh)
    assert loss.item() == pytest.approx(0.0, abs=1e-5)
    assert stats["iou"].item() == pytest.approx(1.0, abs=1e-6)


def test_box_loss_weights_and_clamped_ground_truth():
    pred = torch.tensor([[0.5, 0.5, 0.4, 0.4]], requires_grad=True)  # cxcywh -> xyxy .3 .3 .7 .7
    gt = torch.tensor([[0.3, 0.3, 0.9, 0.4]])  # xywh; x2 = 1.2 is clamped to 1.0
    loss, stats = GIoUL1Loss(giou_weight=2.0, l1_weight=5.0)(pred, gt)
    gt_xyxy = torch.tensor([[0.3, 0.3, 1.0, 0.7]])
    l1 = (torch.tensor([[0.3, 0.3, 0.7, 0.7]]) - gt_xyxy).abs().mean()
    giou = 1 - (0.16 / 0.28)  # nested boxes: enclosing box = union
    assert stats["l1"].item() == pytest.approx(l1.item(), abs=1e-6)
    assert stats["giou"].item() == pytest.approx(giou, abs=1e-5)
    assert loss.item() == pytest.approx(2 * giou + 5 * l1.item(), abs=1e-5)
    loss.backward()
    assert torch.isfinite(pred.grad).all()


def test_box_loss_rejects_bad_input():
    with pytest.raises(ValueError, match="matching"):
        GIoUL1Loss()(torch.rand(2, 4), torch.rand(3, 4))
    with pytest.raises(ValueError, match="NaN"):
        GIoUL1Loss()(torch.tensor([[float("nan"), 0.5, 0.1, 0.1]]), torch.rand(1, 4))


def test_score_loss_is_bce_with_logits():
    logits, labels = torch.randn(6, 1), torch.tensor([1, 0, 1, 1, 0, 0])
    expected = F.binary_cross_entropy_with_logits(logits[:, 0], labels.float())
    assert score_loss(logits, labels).item() == pytest.approx(expected.item())
    with pytest.raises(ValueError, match="labels"):
        score_loss(logits, labels[:3])
