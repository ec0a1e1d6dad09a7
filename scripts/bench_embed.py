"""Benchmark: authorid's corpus embedder (`embed_texts`) vs plain `SentenceTransformer.encode`.

Same model, same N Reddit posts, same batch size, same process. Reports posts/s of each, the speed ratio
(ours / encode), the minimum cosine between the two outputs, the padding each length order costs, and the
machine. Each method runs `--repeats` times, alternating which goes first; the best time of each is reported
(neighbours on a shared machine only ever slow a run down). `scripts/bench_speed.py` reuses these functions.

    .venv/bin/python scripts/bench_embed.py --n 5000 --out runs/bench_embed.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from benchlib.machine import machine
from rich.console import Console

from authorid.encoders import build_style_encoder, embed_texts
from authorid.io import atomic_write_text

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpora" / "reddit_college" / "reddit_college.jsonl.gz"


def read_texts(path: Path, n: int) -> list[str]:
    """The texts of the first `n` records of a .jsonl.gz dump (the corpus is sorted by author, then time)."""
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


def min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """The smallest row-wise cosine between two (n, d) arrays of vectors of the same posts."""
    return float(cosines(a, b).min())


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine between two (n, d) arrays."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def time_methods(
    methods: dict[str, Callable[[], np.ndarray]],
    n_items: int,
    *,
    repeats: int = 1,
    console: Console | None = None,
) -> tuple[dict[str, list[float]], dict[str, np.ndarray]]:
    """Run every method `repeats` times, rotating which goes first each repeat (so a neighbour's burst of load
    does not always hit the same one). Returns (seconds per run, last output) per method."""
    names = list(methods)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    outputs: dict[str, np.ndarray] = {}
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            outputs[name] = methods[name]()
            seconds[name].append(time.perf_counter() - start)
            if console is not None:
                console.log(f"{name}: {n_items / seconds[name][-1]:.1f} posts/s")
    return seconds, outputs


def token_lengths(model, texts: list[str]) -> np.ndarray:
    """Tokens per text after truncation to the model's max_seq_length."""
    encoded = model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]
    return np.array([len(ids) for ids in encoded])


def compare_embedders(
    model,
    texts: list[str],
    *,
    batch_size: int = 64,
    repeats: int = 1,
    extra: dict[str, Callable[[list[str]], np.ndarray]] | None = None,
    console: Console | None = None,
) -> dict:
    """posts/s of `SentenceTransformer.encode` and `authorid.encoders.embed_texts` on the same texts, their
    ratio (best time of each), and the smallest cosine between their vectors.

    `extra` adds named embedders (texts -> vectors), e.g. a quantised copy of the model: they are warmed up
    and timed in the same rotation, so their posts/s compare with the two above on equal terms.
    """
    methods: dict[str, Callable[[list[str]], np.ndarray]] = {
        "encode": lambda batch: model.encode(batch, batch_size=batch_size, convert_to_numpy=True),
        "authorid": lambda batch: embed_texts(model, batch, batch_size=batch_size, progress=False),
        **(extra or {}),
    }
    # Warm-up: the first forward passes allocate and pick kernels; no method should pay for that.
    for embed in methods.values():
        embed(texts[:batch_size])
    seconds, outputs = time_methods(
        {name: (lambda embed=embed: embed(texts)) for name, embed in methods.items()},
        len(texts),
        repeats=repeats,
        console=console,
    )
    best = {name: min(times) for name, times in seconds.items()}
    lengths = token_lengths(model, texts)
    return {
        "n_posts": len(texts),
        "seconds": seconds,
        "posts_per_s": {name: len(texts) / t for name, t in best.items()},
        "speed_ratio_authorid_over_encode": best["encode"] / best["authorid"],
        "min_cosine": min_cosine(outputs["authorid"], outputs["encode"]),
        "tokens": {
            "real": int(lengths.sum()),
            "padded_exact_token_sort": padded_tokens(
                lengths, np.argsort(-lengths, kind="stable"), batch_size
            ),
            "padded_char_length_sort": padded_tokens(
                lengths, np.argsort([-len(t) for t in texts], kind="stable"), batch_size
            ),
        },
        "outputs": outputs,  # the vectors, for callers that compare more variants; dropped before writing
    }


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
    started = machine()
    texts = read_texts(args.corpus, args.n)
    model = build_style_encoder("minilm", max_seq_length=args.max_seq_length, device=args.device)
    result = compare_embedders(
        model, texts, batch_size=args.batch_size, repeats=args.repeats, console=console
    )
    result.pop("outputs")
    result = {
        **result,
        "batch_size": args.batch_size,
        "max_seq_length": args.max_seq_length,
        "model": "all-MiniLM-L6-v2 (bundled)",
        "device": args.device,
        "machine": started,
    }
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    console.print_json(json.dumps(result))
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
