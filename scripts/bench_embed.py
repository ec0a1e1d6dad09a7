"""Benchmark: authorid's corpus embedder (`embed_texts`) vs plain `SentenceTransformer.encode`.

Same model, same N Reddit posts, same batch size, same process. Reports posts/s of each, the speed ratio
(ours / encode), the minimum cosine between the two outputs, the padding each length order costs, and the
machine. Each method runs `--repeats` times, alternating which goes first; the best time of each is reported
(neighbours on a shared machine only ever slow a run down).

    .venv/bin/python scripts/bench_embed.py --n 5000 --out runs/bench_embed.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import sentence_transformers
import torch
import transformers
from rich.console import Console

from authorid.encoders import build_style_encoder, embed_texts
from authorid.io import atomic_write_text

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpora" / "reddit_college" / "reddit_college.jsonl.gz"


def read_texts(path: Path, n: int) -> list[str]:
    texts = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            texts.append(json.loads(line)["text"])
            if len(texts) >= n:
                break
    return texts


def padded_tokens(lengths: np.ndarray, order: np.ndarray, batch_size: int) -> int:
    """Tokens the model processes when `order` is cut into batches padded to their longest member."""
    return int(
        sum(
            lengths[order[s : s + batch_size]].max() * len(order[s : s + batch_size])
            for s in range(0, len(order), batch_size)
        )
    )


def machine(device: str) -> dict:
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
        "device": device,
    }
    if device.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="number of Reddit posts")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_embed.json"))
    args = parser.parse_args()
    console = Console()
    if args.threads:
        torch.set_num_threads(args.threads)

    texts = read_texts(args.corpus, args.n)
    model = build_style_encoder("minilm", max_seq_length=args.max_seq_length, device=args.device)
    lengths = np.array(
        [
            len(ids)
            for ids in model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]
        ]
    )
    # Warm-up: the first forward passes allocate and pick kernels; neither method should pay for that.
    warm = texts[: args.batch_size]
    model.encode(warm, batch_size=args.batch_size)
    embed_texts(model, warm, batch_size=args.batch_size, progress=False)

    def run_encode() -> np.ndarray:
        return model.encode(texts, batch_size=args.batch_size, convert_to_numpy=True)

    def run_ours() -> np.ndarray:
        return embed_texts(model, texts, batch_size=args.batch_size, progress=False)

    seconds: dict[str, list[float]] = {"encode": [], "authorid": []}
    outputs: dict[str, np.ndarray] = {}
    for repeat in range(args.repeats):
        plan = [("encode", run_encode), ("authorid", run_ours)]
        for name, run in plan if repeat % 2 == 0 else plan[::-1]:
            start = time.perf_counter()
            outputs[name] = run()
            seconds[name].append(time.perf_counter() - start)
            console.log(f"{name}: {len(texts) / seconds[name][-1]:.1f} posts/s")

    reference, ours = outputs["encode"], outputs["authorid"]
    cosines = (ours * reference).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(reference, axis=1))
    best = {name: min(times) for name, times in seconds.items()}
    result = {
        "n_posts": len(texts),
        "batch_size": args.batch_size,
        "max_seq_length": args.max_seq_length,
        "model": "all-MiniLM-L6-v2 (bundled)",
        "seconds": seconds,
        "posts_per_s": {name: len(texts) / t for name, t in best.items()},
        "speed_ratio_authorid_over_encode": best["encode"] / best["authorid"],
        "min_cosine": float(cosines.min()),
        "tokens": {
            "real": int(lengths.sum()),
            "padded_exact_token_sort": padded_tokens(
                lengths, np.argsort(-lengths, kind="stable"), args.batch_size
            ),
            "padded_char_length_sort": padded_tokens(
                lengths, np.argsort([-len(t) for t in texts], kind="stable"), args.batch_size
            ),
        },
        "machine": machine(args.device),
    }
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    console.print_json(json.dumps(result))
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
