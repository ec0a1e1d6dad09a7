"""Run by test_ddp.py under `torch.distributed.run`: train the tiny model, write each rank's weight digest.

Usage: python -m torch.distributed.run --nproc_per_node 2 ddp_worker.py BASE OUT
"""

import hashlib
import json
import os
import sys

import torch

torch.set_num_threads(1)
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from authorid.data.readers import read_posts  # noqa: E402
from authorid.workflows.train import train  # noqa: E402

base, out = sys.argv[1], sys.argv[2]
posts, _ = read_posts("enron_demo")
model = train(
    posts,
    out=out,
    base=base,
    loss="nbc-softmax",
    max_steps=3,
    progress=False,
    overrides={
        "episodes.accounts_per_batch": 4,
        "episodes.posts_per_episode": 2,
        "model.max_seq_length": 32,
        "data.val_accounts": 8,
        "run.cpu": True,
        "run.checkpoint_every": 2,
        "run.eval_at_start": False,  # else the untrained step-0 weights may stay the best after 3 steps
        "optim.lr": 1e-3,
    },
)
digest = hashlib.sha256()
for name, tensor in sorted(model.encoder.state_dict().items()):
    digest.update(name.encode() + tensor.detach().numpy().tobytes())
rank = os.environ["RANK"]
with open(f"{out}.rank{rank}.json", "w") as fh:
    json.dump({"digest": digest.hexdigest(), "world_size": model.metadata["training"]["world_size"]}, fh)
