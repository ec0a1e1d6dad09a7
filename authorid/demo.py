"""The demo pipeline: ingest -> sybil cut -> embed (untuned default encoder, stylometric) -> linking report.

What `make demo` runs on the bundled Enron sample. Each step is the public function a user would call, so this
module doubles as a worked example of the Python API.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from authorid.data.ingest import ingest
from authorid.data.splits import split
from authorid.encoders import StylometricEncoder, build_style_encoder, embed_accounts
from authorid.evaluation.linking import sybil_linking_metrics
from authorid.io import atomic_write_text

logger = logging.getLogger(__name__)

DEMO_ENCODERS = ("minilm", "stylometric")


@dataclass
class DemoResult:
    out: Path
    metrics: dict[str, dict[str, float]]  #: encoder -> linking metrics
    outputs: dict[str, Path] = field(default_factory=dict)  #: what was written where


def run_demo(
    *,
    corpus: str | Path = "enron_demo",
    out: str | Path = "runs/demo",
    encoders: tuple[str, ...] = DEMO_ENCODERS,
    seed: int = 0,
    max_seq_length: int = 128,
    progress: bool = False,
) -> DemoResult:
    """Cut every account of `corpus` into two pseudo-accounts and measure how well each encoder links them."""
    unknown = [e for e in encoders if e not in DEMO_ENCODERS]
    if unknown:
        raise ValueError(
            f"unknown demo encoder(s) {', '.join(unknown)}; choose from {', '.join(DEMO_ENCODERS)}"
        )
    out = Path(out)
    outputs: dict[str, Path] = {}
    ingested = ingest(corpus, out=out / "posts.parquet", progress=progress)
    outputs["posts"], outputs["ingest report"] = ingested.posts_path, ingested.report_path

    by = "time" if "created_at" in ingested.posts.column_names else "random"
    sybil = split(ingested.posts, "sybil", seed=seed, k=2, by=by)
    outputs["split manifest"] = sybil.manifest.save(out / "split.json")
    pseudo = sybil.test
    person_of = dict(zip(pseudo["account_id"], pseudo["person_id"], strict=True))

    metrics: dict[str, dict[str, float]] = {}
    for name in encoders:
        started = time.perf_counter()
        if name == "minilm":
            model = build_style_encoder("minilm", max_seq_length=max_seq_length)
        else:
            # Fitting the vocabulary needs no labels; on the demo it sees the evaluation texts (transductive).
            model = StylometricEncoder().fit(pseudo)
        vectors = embed_accounts(model, pseudo, progress=progress)
        metrics[name] = {
            **sybil_linking_metrics(vectors, person_of),
            "seconds": time.perf_counter() - started,
        }
        outputs[f"{name} vectors"] = vectors.to_parquet(out / f"vectors-{name}.parquet")

    report = {
        "corpus": str(corpus),
        "protocol": {"name": "sybil linking", "cut": by, "k": 2, "seed": seed},
        "ingest": ingested.report.to_dict(),
        "split": sybil.manifest.counts,
        "metrics": metrics,
    }
    outputs["linking report"] = atomic_write_text(out / "linking.json", json.dumps(report, indent=2))
    return DemoResult(out=out, metrics=metrics, outputs=outputs)
