"""DDP on CPU (gloo): 2 ranks launched by torchrun hold identical parameters, equal to one process
trained with the same global batch."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

import training_fakes
from ltr.admin.checkpoint import load_checkpoint
from ltr.run_training import run

TESTS = Path(__file__).resolve().parent
DRIVER = f"""
import os, sys
sys.path.insert(0, {str(TESTS)!r})
import torch
import training_fakes
training_fakes.register()
from ltr.run_training import main
from ltr.trainers.trainer import Trainer

train = Trainer.train

def train_and_dump(self, resume=False):
    net = train(self, resume)
    torch.save(net.state_dict(), os.path.join(os.environ["DUMP_DIR"], f"rank{{os.environ['RANK']}}.pt"))
    return net

Trainer.train = train_and_dump
sys.exit(main(sys.argv[1:]))
"""
# no dropout (ranks draw different masks) and no negatives (the box loss is normalised per rank
# by its positives), so the 2-rank mean of per-rank means equals the single-process mean.
COMMON = ["data.train=[{name: rectangles, kwargs: {num_sequences: 6}}]", "model.dropout=0.0",
          "data.sampler.negative_prob=0.0", "train.epochs=2", "data.samples_per_epoch=16",
          "train.deterministic=false"]


def test_two_gloo_ranks_match_each_other_and_single_process(tmp_path: Path) -> None:
    training_fakes.register()
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(driver), "tiny_net", "smoke", "--workspace", str(tmp_path / "ddp"), "--device", "cpu"]
    for item in COMMON + ["data.batch_size=2"]:
        cmd += ["--set", item]
    env = {**os.environ, "DUMP_DIR": str(tmp_path), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]

    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2))
    single_dir = run("tiny_net", "smoke", COMMON + ["data.batch_size=4"], workspace=str(tmp_path / "single"),
                     device="cpu")[0]
    single = load_checkpoint(single_dir / "ep0002.pth")["state_dict"]
    ddp = load_checkpoint(tmp_path / "ddp/checkpoints/tiny_net/smoke/ep0002.pth")["state_dict"]
    for key, value in rank0.items():
        assert torch.equal(value, rank1[key]), key
        assert torch.equal(value, ddp[key]), key
        torch.testing.assert_close(value, single[key], rtol=1e-5, atol=1e-6)
    first = load_checkpoint(single_dir / "ep0001.pth")["state_dict"]
    assert any(not torch.equal(first[k], v) for k, v in single.items())  # the epochs did train
