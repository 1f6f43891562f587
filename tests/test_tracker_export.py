"""The shared exporter ships any registered network: no training state, half precision, strict load."""
import torch

from ltr.admin.checkpoint import build_network_from_checkpoint, load_checkpoint, save_checkpoint
from ltr.models.bit import bit_kwargs
from ltr.models.registry import NETWORKS
from pytracking.tracker.base import TRACKERS
from pytracking.tracker.export import export


def test_bit_export_strips_training_state_and_keeps_weights(tmp_path):
    params = TRACKERS.get("bit").load_params("bit", "tiny")
    kwargs = bit_kwargs(params.model)
    net = NETWORKS.build("bit", **kwargs)
    optimizer = torch.optim.AdamW(p for p in net.parameters() if p.requires_grad)
    source = save_checkpoint(tmp_path / "train.pth", net, "bit", kwargs, optimizer=optimizer, epoch=7)
    target = export(source, tmp_path / "ship.pth")
    payload = load_checkpoint(target)
    assert payload["optimizer"] is None and payload["epoch"] == 7
    assert payload["extra"]["half_precision"] is True
    shipped = build_network_from_checkpoint(target)
    for (name, a), b in zip(net.state_dict().items(), shipped.state_dict().values()):
        expected = a.half().to(a.dtype) if a.is_floating_point() else a
        assert torch.equal(b, expected), name
