"""authorid: who wrote what on forums.

The public Python API: the verbs (`train`, `evaluate`, `cluster`, ... from `authorid.workflows`, the same
functions the CLI wraps) and the building blocks. Names load lazily, so `import authorid` (and every CLI
command) starts fast and pulls in torch only when an encoder is asked for.

    import authorid as aid
    posts, report = aid.read_posts("dump.jsonl.gz", columns={"user": "account_id", "body": "text"})
    posts, report = aid.clean(posts, report=report)
    split = aid.split(posts, "open-world", seed=0)
    model = aid.train(split.train, val=split.val, loss="supcon", preset="quick", out="models/m")
    vectors = model.embed_accounts(split.test)
    metrics = aid.evaluate(model, split.test, protocol="sybil")
"""

from __future__ import annotations

import importlib
import os

__version__ = "0.1.0"

# Nothing is downloaded at run time: every model comes from an installed package or a local folder. The Hugging
# Face libraries read these switches when they are imported (after this), so they never look anything up on the
# network (sentence-transformers' model-card code asks the hub about a base model unless told not to). A user
# who sets them explicitly keeps their own value.
for _switch in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
    os.environ.setdefault(_switch, "1")

_EXPORTS = {
    # data
    "read_posts": "authorid.data.readers",
    "load_posts": "authorid.data.readers",
    "clean": "authorid.data.clean",
    "CleanConfig": "authorid.data.clean",
    "ingest": "authorid.workflows.ingest",
    "IngestReport": "authorid.data.report",
    "split": "authorid.data.splits",
    "Split": "authorid.data.splits",
    "SplitManifest": "authorid.data.splits",
    "EpisodeBatchSampler": "authorid.data.episodes",
    "posts_from_records": "authorid.schema",
    # encoders
    "build_style_encoder": "authorid.encoders",
    "embed_texts": "authorid.encoders",
    "embed_accounts": "authorid.encoders",
    "AccountVectors": "authorid.encoders",
    "StylometricEncoder": "authorid.encoders",
    "NgramEncoder": "authorid.encoders",
    "AttentionPooling": "authorid.encoders",
    "build_loss": "authorid.losses",
    "TrainConfig": "authorid.training",
    "sybil_linking_metrics": "authorid.metrics.linking",
    "cluster_accounts": "authorid.clustering",
    "ClusterReport": "authorid.clustering",
    "load_model": "authorid.model",
    "StyleModel": "authorid.model",
    "Calibrator": "authorid.verification",
    "build_index": "authorid.index",
    # the verbs (one workflow each; the CLI wraps the same functions)
    "train": "authorid.workflows.train",
    "fuse": "authorid.workflows.fuse",
    "fit_calibration": "authorid.workflows.calibrate",
    "fit_fusion": "authorid.workflows.calibrate",
    "embed": "authorid.workflows.embed",
    "score": "authorid.workflows.score",
    "cluster": "authorid.workflows.cluster",
    "attribute": "authorid.workflows.attribute",
    "evaluate": "authorid.workflows.evaluate",
    "explain": "authorid.workflows.explain",
    "calibrate": "authorid.workflows.calibrate",
    "compress": "authorid.workflows.compress",
    "build_account_index": "authorid.workflows.index",
    "add_accounts": "authorid.workflows.index",
    "open_index": "authorid.workflows.index",
    "open_link_target": "authorid.workflows.link",
    "link_accounts": "authorid.workflows.link",
    "comparison": "authorid.workflows.compare",
    "comparison_table": "authorid.workflows.compare",
    "run_demo": "authorid.workflows.demo",
    # errors
    "AuthoridError": "authorid.errors",
    "InputError": "authorid.errors",
}
_RENAMED = {"build_loss": "build"}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'authorid' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
