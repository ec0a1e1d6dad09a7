"""Speed and scale (issue 7): embedding, training and linking / clustering throughput, one JSON and plots.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_speed.py                    # every section
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_speed.py --sections scale   # one, merged into the JSON

Sections (each records its settings, the machine, the date, the exact command and its wall time; a run of
some sections replaces those in the existing JSON and keeps the others, so a long benchmark can be run in
pieces and an interrupted section run again):

- ``embed``: posts/s of `authorid.encoders.embed_texts` vs `SentenceTransformer.encode` on the same N Reddit
  posts (a seeded sample), their ratio and the smallest cosine between them; an int8 copy of the model
  (`torch.ao.quantization.quantize_dynamic` on its Linear layers) and, where `onnxruntime` imports, the model
  exported to ONNX, each with its posts/s and its linking MRR on a small sybil set next to fp32's, and whether
  it keeps MRR within 0.01 of fp32.
- ``train``: examples (episodes) per second of `authorid.train` for each loss, a short fixed number of steps on
  the same episodes (same posts, seed and sampler), with the ratio to plain CE. Throughput, not quality.
- ``scale``: linking latency (ms per query, top-10, exact and faiss IVF) and clustering wall time and peak RSS
  (`cluster_accounts`, each size in a fresh process) from 1k to 100k reddit_college accounts, on account
  vectors of a StylometricEncoder(dim=256) fitted on a seeded sample (cached as Parquet under runs/).

Every ratio is taken against a baseline measured in the same run (encode, fp32, CE, exact search).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import logging
import os
import shlex
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from benchlib.machine import machine  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

logger = logging.getLogger("bench_speed")

REPO = Path(__file__).resolve().parents[1]
SCHEMA = 1
SECTIONS = ("embed", "train", "scale")
DEFAULT_OUT = REPO / "benchmarks" / "results" / "speed.json"
DEFAULT_PLOTS = REPO / "benchmarks" / "plots"
DEFAULT_VECTORS = REPO / "runs" / "reddit_stylometric256.parquet"
#: A faster variant of the encoder counts as usable only if its linking MRR is at most this much below fp32's.
MRR_TOLERANCE = 0.01
TRAIN_LOSSES = ("ce", "nbc-softmax", "nbc-softmax-scaled", "supcon", "contrax", "arcface")
SCALE_SIZES = (1_000, 3_000, 10_000, 30_000, 100_000)


# ------------------------------------------------------------------------------------------ the results file


def parse_sections(text: str) -> list[str]:
    """`"embed,scale"` -> ["embed", "scale"] (in the order given, no repeats); `"all"` -> every section."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return list(SECTIONS)
    unknown = [n for n in names if n not in SECTIONS]
    if unknown or not names:
        raise SystemExit(
            f"unknown section(s) {', '.join(unknown) or repr(text)}; valid: {', '.join(SECTIONS)}"
        )
    return list(dict.fromkeys(names))


def load_results(path: Path) -> dict:
    """The results JSON at `path`, or {} when there is none yet; one line and exit when it is not JSON."""
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise SystemExit(f"{path}: not valid JSON ({err}); move it away to start a new results file") from err


def merge_sections(existing: dict, new: dict[str, dict]) -> dict:
    """`existing` with the sections in `new` replaced (the others kept as they were); a file written by
    another schema version is not mixed with this one: its sections are dropped."""
    unknown = sorted(set(new) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown section(s) {', '.join(unknown)}")
    kept = existing if existing.get("schema") == SCHEMA else {}
    merged = {key: value for key, value in kept.items() if key in SECTIONS}
    merged.update(new)
    return {"schema": SCHEMA, **{name: merged[name] for name in SECTIONS if name in merged}}


def write_results(path: Path, results: dict) -> None:
    from authorid.io import atomic_write_text

    stamped = {**results, "updated": _now()}
    atomic_write_text(path, json.dumps(stamped, indent=2, ensure_ascii=False, default=_jsonable) + "\n")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def command_line() -> str:
    """The command as it was typed (interpreter included), for the reader to run it again."""
    argv = getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv]
    return shlex.join(argv)


def section_record(settings: dict, results: dict, *, started: dict, date: str, seconds: float) -> dict:
    """One section of the JSON: what was asked, what came out, where and when."""
    return {
        "settings": settings,
        "results": results,
        "machine": started,
        "date": date,
        "command": command_line(),
        "seconds": round(seconds, 1),
    }


# ------------------------------------------------------------------------------------------------- embed


def quantize_int8(model):
    """An int8 copy of a SentenceTransformer: `quantize_dynamic` on every Linear layer (weights int8 per
    output channel, activations quantised per batch at run time); `model` itself is left as it was.

    Per-channel weight scales, because MiniLM's projection rows differ in range: one scale per tensor costs
    far more accuracy (post cosine to fp32 ~0.93 median vs ~0.97 on Reddit posts) for the same speed.
    """
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated in favour of torchao
        quantized = quantize_dynamic(
            copy.deepcopy(model).cpu().eval(),
            {torch.nn.Linear: per_channel_dynamic_qconfig},
            dtype=torch.qint8,
        )
    return quantized


def _positional(model):
    """`model` as `(input_ids, attention_mask, token_type_ids) -> sentence_embedding`: the positional
    signature the ONNX exporter traces, so pooling and normalisation are exported with the network."""
    import torch

    class Positional(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            features = {
                "input_ids": input_ids,
                "attention_mask": attention_mask,
                "token_type_ids": token_type_ids,
            }
            return self.st(features)["sentence_embedding"]

    return Positional().eval()


class OnnxEncoder:
    """A SentenceTransformer exported to ONNX and run by ONNX Runtime on the CPU.

    Tokenising, length-sorted batching and input order are as in `authorid.encoders.embed_texts`, so the two
    differ only in the runtime that executes the network. It quacks like a neural StyleModel for the
    evaluation protocols (`embed_posts`, `kind`, `pooling`).
    """

    kind = "neural"
    pooling = None
    calibration = None
    pools_counts = False  # it pools post vectors, as a neural StyleModel does

    def __init__(self, model, folder: Path, *, threads: int | None = None) -> None:
        import onnxruntime as ort
        import torch

        self.tokenizer = model.tokenizer
        self.max_seq_length = int(model.max_seq_length)
        path = Path(folder) / "model.onnx"
        example = self.tokenizer(["a short example", "and a second one"], padding=True, return_tensors="pt")
        names = ["input_ids", "attention_mask", "token_type_ids"]
        inputs = tuple(example.get(n, torch.zeros_like(example["input_ids"])) for n in names)
        axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"sentence_embedding": {0: "batch"}}
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _positional(copy.deepcopy(model).cpu().eval()),
                inputs,
                str(path),
                dynamo=False,  # the TorchScript exporter: needs `onnx`, not `onnxscript`
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes=axes,
                opset_version=17,
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.pad_id = self.tokenizer.pad_token_id or 0
        self.onnx_mb = path.stat().st_size / 2**20

    def embed_groups(
        self,
        texts: list[str],
        groups: np.ndarray,
        n_groups: int,
        *,
        post_vectors: np.ndarray | None = None,
        progress: bool = False,
    ) -> np.ndarray:
        """Accounts pooled as a neural StyleModel pools them (mean of the unit post vectors, normalised)."""
        from authorid.encoders.pooling import mean_pool

        if post_vectors is None:
            post_vectors = self.embed_posts(texts, progress=progress)
        return mean_pool(post_vectors, groups, n_groups)

    def embed_posts(
        self, texts: Sequence[str], *, progress: bool = False, batch_size: int = 64
    ) -> np.ndarray:
        texts = list(texts)
        ids = self.tokenizer(texts, truncation=True, max_length=self.max_seq_length, padding=False)[
            "input_ids"
        ]
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        order = np.argsort(-lengths, kind="stable")
        out = None
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = int(lengths[rows[0]])
            batch = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, row in enumerate(rows):
                batch[j, : lengths[row]] = ids[row]
                mask[j, : lengths[row]] = 1
            feeds = {"input_ids": batch, "attention_mask": mask, "token_type_ids": np.zeros_like(batch)}
            vectors = self.session.run(None, {n: feeds[n] for n in self.input_names})[0]
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def onnx_status() -> str | None:
    """None when the ONNX variant can run here, else why not (one line)."""
    for module, why in (
        ("onnxruntime", "onnxruntime is not installed"),
        ("onnx", "onnx (the exporter) is not installed"),
    ):
        try:
            __import__(module)
        except ImportError:
            return f"not measured: {why} (pip install -e '.[bench]'; not a runtime dependency)"
    return None


def cosine_summary(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """min / 1st percentile / median / mean of the row-wise cosines of two embeddings of the same posts."""
    from bench_embed import cosines

    values = cosines(a, b)
    return {
        "min": float(values.min()),
        "p01": float(np.percentile(values, 1)),
        "median": float(np.median(values)),
        "mean": float(values.mean()),
    }


def linking_metrics(model, posts, *, accounts: int, min_posts: int, max_posts: int, seed: int) -> dict:
    """Sybil linking of `model` on a seeded set: MRR, R@1, R@8 (and episode MRR), the posts embedded and how
    fast. Runs `sybil_protocol`, the piece of `authorid.evaluate(protocol="sybil")` that ranks,
    without the model fingerprint (which a quantised model's packed weights do not support)."""
    from authorid.evaluation.protocols import sybil_protocol

    result = sybil_protocol(
        model, posts, accounts=accounts, min_posts=min_posts, max_posts=max_posts, seed=seed
    )
    linking = result.metrics["linking"]
    n_posts = int(result.settings["evaluated_posts"])
    return {
        "mrr": linking["mrr"],
        "r@1": linking["r@1"],
        "r@8": linking["r@8"],
        "episode_mrr": result.metrics.get("episodes", {}).get("mrr"),
        "n_queries": linking["n_queries"],
        "pool_size": linking["pool_size"],
        "posts": n_posts,
        "posts_per_s": n_posts / result.timing_s["embed_and_link"],
        "queries_sha256": result.queries_sha256(),
    }


def sample_texts(posts, n: int, seed: int) -> list[str]:
    """A seeded sample of n post texts (the dump is sorted by author: its first n posts are a few authors)."""
    rows = np.sort(np.random.default_rng(seed).choice(len(posts), size=min(n, len(posts)), replace=False))
    return list(posts.select(rows)["text"])


def run_embed(args: argparse.Namespace, console: Console) -> tuple[dict, dict]:
    """The embed section: (settings, results)."""
    import torch
    from bench_embed import compare_embedders

    from authorid.data.readers import read_posts
    from authorid.encoders import build_style_encoder, embed_texts
    from authorid.model import StyleModel, load_model

    settings = {
        "corpus": args.corpus,
        "n_posts": args.n,
        "texts": f"seeded random sample (seed {args.seed}) of the corpus' posts",
        "batch_size": args.batch_size,
        "max_seq_length": args.max_seq_length,
        "model": "all-MiniLM-L6-v2 (bundled), untuned",
        "repeats": args.repeats,
        "timing": "best of `repeats` runs per method, methods rotating which goes first; warm-up excluded",
        "torch_threads": torch.get_num_threads(),
        "int8": "torch.ao.quantization.quantize_dynamic, torch.nn.Linear, qint8, per-channel weight scales",
        "linking": {
            "protocol": "sybil (halves by time; sybil_protocol of authorid.evaluation)",
            "accounts": args.link_accounts,
            "min_posts": args.link_min_posts,
            "max_posts_per_half": args.link_max_posts,
            "seed": args.seed,
        },
        "mrr_tolerance": MRR_TOLERANCE,
    }
    console.log(f"reading {args.corpus}")
    posts, _ = read_posts(args.corpus)
    texts = sample_texts(posts, args.n, args.seed)
    model = build_style_encoder("minilm", max_seq_length=args.max_seq_length, device="cpu")
    variants: dict[str, Any] = {"int8": quantize_int8(model)}
    onnx_why = onnx_status()
    work = Path(tempfile.mkdtemp(prefix="bench_speed_onnx_"))
    try:
        if onnx_why is None:
            console.log("exporting the model to ONNX")
            variants["onnx"] = OnnxEncoder(model, work)
        extra: dict[str, Callable[[list[str]], np.ndarray]] = {
            "int8": lambda batch: embed_texts(
                variants["int8"], batch, batch_size=args.batch_size, progress=False
            ),
        }
        if "onnx" in variants:
            extra["onnx"] = lambda batch: variants["onnx"].embed_posts(batch, batch_size=args.batch_size)
        # The packaged n-gram model, one vector per post (hashing on the cores, then the two linear paths).
        load_started = time.perf_counter()
        style = load_model("style")
        style_load_seconds = time.perf_counter() - load_started
        extra["style"] = lambda batch: style.embed_posts(batch)
        console.log(f"timing {', '.join(['encode', 'authorid', *extra])} on {len(texts):,} posts")
        timed = compare_embedders(
            model, texts, batch_size=args.batch_size, repeats=args.repeats, extra=extra, console=console
        )
        outputs = timed.pop("outputs")
        speeds = timed["posts_per_s"]
        methods: dict[str, dict] = {
            "encode": {
                "posts_per_s": speeds["encode"],
                "seconds": timed["seconds"]["encode"],
                "ratio_to_encode": 1.0,
            },
            "authorid": {
                "posts_per_s": speeds["authorid"],
                "seconds": timed["seconds"]["authorid"],
                "ratio_to_encode": speeds["authorid"] / speeds["encode"],
                "min_cosine_to_encode": timed["min_cosine"],
            },
        }
        for name in extra:
            methods[name] = {
                "posts_per_s": speeds[name],
                "seconds": timed["seconds"][name],
                "ratio_to_encode": speeds[name] / speeds["encode"],
                "ratio_to_authorid_fp32": speeds[name] / speeds["authorid"],
            }
            if name != "style":  # another model: its vectors are not comparable to MiniLM's
                methods[name]["cosine_to_fp32"] = cosine_summary(outputs[name], outputs["authorid"])
        if "onnx" not in variants:
            methods["onnx"] = {"measured": False, "reason": onnx_why}

        link = {"authorid": StyleModel(name="minilm", encoder=model), "style": style}
        link |= {"int8": StyleModel(name="minilm-int8", encoder=variants["int8"])}
        link |= {"onnx": variants["onnx"]} if "onnx" in variants else {}
        for name, style_model in link.items():
            console.log(f"linking MRR of {name} on {args.link_accounts} accounts")
            methods[name]["linking"] = linking_metrics(
                style_model,
                posts,
                accounts=args.link_accounts,
                min_posts=args.link_min_posts,
                max_posts=args.link_max_posts,
                seed=args.seed,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    fp32_mrr = methods["authorid"]["linking"]["mrr"]
    for name in link:
        if name in ("authorid", "style"):
            continue
        delta = methods[name]["linking"]["mrr"] - fp32_mrr
        methods[name]["mrr_minus_fp32"] = delta
        methods[name][f"keeps_mrr_within_{MRR_TOLERANCE}"] = bool(delta >= -MRR_TOLERANCE)
    hashes = {methods[name]["linking"]["queries_sha256"] for name in link}
    results = {
        "n_posts": timed["n_posts"],
        "methods": methods,
        "speed_ratio_authorid_over_encode": timed["speed_ratio_authorid_over_encode"],
        "tokens": timed["tokens"],
        "same_linking_queries": len(hashes) == 1,
    }
    if "onnx" in variants:
        results["onnx_model_mb"] = round(variants["onnx"].onnx_mb, 1)
    results["style"] = {
        "load_seconds": round(style_load_seconds, 2),
        "model_mb": round(sum(f.stat().st_size for f in style.path.iterdir()) / 2**20, 1),
        "ratio_to_encode": methods["style"]["ratio_to_encode"],
    }
    _print_embed(console, results)
    return settings, results


def _print_embed(console: Console, results: dict) -> None:
    table = Table(title=f"embedding {results['n_posts']:,} posts")
    for column in ("method", "posts/s", "x encode", "linking MRR", "R@8", "cos to fp32 (min/median)"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for name, row in results["methods"].items():
        if row.get("measured") is False:
            table.add_row(name, row["reason"], "", "", "", "")
            continue
        link = row.get("linking", {})
        cos = row.get("cosine_to_fp32")
        table.add_row(
            name,
            f"{row['posts_per_s']:.1f}",
            f"{row['ratio_to_encode']:.2f}",
            f"{link['mrr']:.4f}" if link else "",
            f"{link['r@8']:.3f}" if link else "",
            f"{cos['min']:.3f} / {cos['median']:.3f}" if cos else "",
        )
    console.print(table)


# ------------------------------------------------------------------------------------------------- train


def train_overrides(steps: int) -> dict:
    """The quick preset cut to `steps` optimizer steps with nothing but training in them: no validation, no
    calibration, no checkpoint (they would be timed into the wall clock, and are the same for every loss)."""
    return {
        "run.max_steps": steps,
        "data.val_accounts": 0,
        "run.eval_every": -1,
        "run.eval_at_start": False,
        "run.calibrate": False,
        "run.checkpoint_every": 10**6,
    }


def parse_overrides(items: Sequence[str]) -> dict[str, str]:
    """["episodes.accounts_per_batch=8", ...] -> {"episodes.accounts_per_batch": "8"} (the config parses)."""
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--train-set {item!r}: expected KEY=VALUE, e.g. episodes.accounts_per_batch=8")
        pairs[key.strip()] = value.strip()
    return pairs


def run_train(args: argparse.Namespace, console: Console) -> tuple[dict, dict]:
    """The train section: (settings, results)."""
    import torch
    from bench_train import read_posts_for, train_run

    from authorid.training import resolve_config

    losses = [name.strip() for name in args.losses.split(",") if name.strip()]
    overrides = train_overrides(args.steps) | parse_overrides(args.train_set)
    cfg = resolve_config(preset=args.preset, overrides=overrides)
    ep = cfg.episodes
    settings = {
        "corpus": args.corpus,
        "preset": args.preset,
        "overrides": overrides,
        "steps": args.steps,
        "losses": losses,
        "episodes": {
            "accounts_per_batch": ep.accounts_per_batch,
            "episodes_per_account": ep.episodes_per_account,
            "posts_per_episode": ep.posts_per_episode,
        },
        "max_seq_length": cfg.model.max_seq_length,
        "example": "one episode (posts_per_episode posts of one account, pooled into one vector)",
        "same_episodes": "same posts, seed and sampler for every loss",
        "torch_threads": torch.get_num_threads(),
    }
    console.log(f"reading {args.corpus} ({args.preset} preset sample)")
    posts, read_s = read_posts_for(args.corpus, args.preset, overrides)
    work = Path(tempfile.mkdtemp(prefix="bench_speed_train_"))
    rows: dict[str, dict] = {}
    try:
        for loss in losses:
            console.log(f"training {loss} for {args.steps} steps")
            run = train_run(posts, loss, preset=args.preset, overrides=overrides, out=work / loss)
            training = run["metadata"]["training"]
            rows[loss] = {
                "examples_per_s": training["examples_per_s"],
                "median_step_examples_per_s": run["median_step_examples_per_s"],
                "posts_per_s": training["examples_per_s"] * training["posts_per_episode"],
                "steps": training["steps"],
                "episodes_seen": training["episodes_seen"],
                "train_seconds": training["train_seconds"],
                "wall_seconds": round(run["wall_seconds"], 1),
                "step_examples_per_s": run["step_examples_per_s"],
                "train_accounts": run["metadata"]["data"]["train_accounts"],
            }
            console.log(f"{loss}: {rows[loss]['examples_per_s']:.2f} examples/s")
            shutil.rmtree(work / loss, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = rows.get("ce")
    for row in rows.values():
        row["ratio_to_ce"] = row["examples_per_s"] / base["examples_per_s"] if base else None
    results = {"read_and_clean_s": round(read_s, 1), "posts": posts.num_rows, "losses": rows}
    table = Table(title=f"training throughput, {args.steps} steps per loss")
    for column in ("loss", "examples/s", "median step ex/s", "posts/s", "x ce"):
        table.add_column(column, justify="left" if column == "loss" else "right")
    for loss, row in rows.items():
        table.add_row(
            loss,
            f"{row['examples_per_s']:.2f}",
            f"{row['median_step_examples_per_s']:.2f}",
            f"{row['posts_per_s']:.1f}",
            f"{row['ratio_to_ce']:.2f}" if row["ratio_to_ce"] else "-",
        )
    console.print(table)
    return settings, results


# ------------------------------------------------------------------------------------------------- scale


def nested_subsets(n_total: int, sizes: Sequence[int], n_queries: int, seed: int) -> tuple[np.ndarray, list]:
    """(query rows, [rows of each size]): the queries are held out of every index; each size's accounts are
    the first n of one seeded permutation of the rest, so a larger index holds every smaller one."""
    order = np.random.default_rng(seed).permutation(n_total)
    queries, pool = order[:n_queries], order[n_queries:]
    return queries, [np.sort(pool[: min(n, len(pool))]) for n in sizes]


@contextlib.contextmanager
def limited_threads(n: int | None):
    """BLAS and OpenMP (numpy's matmul, faiss) limited to `n` threads inside the block (None: untouched).

    One query is a single matrix-vector product: a second BLAS thread has next to nothing to do, and on a
    shared machine waiting for it to be scheduled costs milliseconds (16 ms medians for a 3k x 256 product
    at load 7 on 2 cores, against 0.07 ms single-threaded). A server answers concurrent queries one per thread.
    """
    if n is None:
        yield
        return
    import faiss
    from threadpoolctl import threadpool_limits

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        faiss.omp_set_num_threads(before)


def run_scale(args: argparse.Namespace, console: Console) -> tuple[dict, dict]:
    """The scale section: (settings, results)."""
    import faiss
    from bench_cluster import build_vectors, cluster_in_subprocess
    from bench_index import latency_and_recall

    from authorid.encoders import AccountVectors

    vectors_path = Path(args.vectors)
    if not vectors_path.is_file():
        console.log(f"embedding reddit_college with StylometricEncoder(dim=256) into {vectors_path} (slow)")
        vectors_path.parent.mkdir(parents=True, exist_ok=True)
        build_vectors(vectors_path, args.fit_posts, args.seed)
    vectors = AccountVectors.from_parquet(vectors_path)
    sizes = [int(n) for n in args.sizes.split(",")]
    settings = {
        "corpus": "reddit_college",
        "vectors": str(vectors_path.relative_to(REPO) if vectors_path.is_relative_to(REPO) else vectors_path),
        "encoder": f"StylometricEncoder(dim=256, seed={args.seed}) fitted on {args.fit_posts:,} sampled posts",
        "accounts_available": len(vectors),
        "dim": vectors.dim,
        "sizes": sizes,
        "queries": args.queries,
        "k": 10,
        "index_kinds": ["exact", "ivf"],
        "ivf_nprobe": args.nprobe or "the index's default, max(16, nlist // 8); per size in the rows",
        "latency": "median wall time of one top-10 query at a time; queries are accounts held out of the index",
        "latency_threads": args.latency_threads,
        "clustering": {
            "method": "mutual-knn",
            "k": args.cluster_k,
            "threshold": args.threshold,
            "seed": args.seed,
        },
        "clustering_process": "each size in a fresh process (its own peak RSS, VmHWM, after loading)",
        "faiss_threads": faiss.omp_get_max_threads(),
    }
    query_rows, subsets = nested_subsets(len(vectors), sizes, args.queries, args.seed)
    queries = vectors.vectors[query_rows]
    rows = []
    for n, subset in zip(sizes, subsets, strict=True):
        enrolled = AccountVectors(
            [vectors.account_ids[i] for i in subset], vectors.vectors[subset], vectors.n_posts[subset]
        )
        with limited_threads(args.latency_threads):
            latency = latency_and_recall(enrolled, queries, kinds=("ivf",), nprobe=args.nprobe)
        console.log(
            f"{len(enrolled):>7,} accounts: exact {latency['exact']['median_query_ms']:.3f} ms/query, "
            f"ivf {latency['ivf']['median_query_ms']:.3f} ms/query (recall@10 {latency['ivf']['recall@10']:.3f})"
        )
        clustered = cluster_in_subprocess(
            vectors_path, n, method="mutual-knn", k=args.cluster_k, threshold=args.threshold, seed=args.seed
        )
        console.log(
            f"{clustered['n']:>7,} accounts: clustered in {clustered['wall_s']:.2f} s, "
            f"peak RSS {clustered['peak_rss_mb']:.0f} MB"
        )
        rows.append({"n": len(enrolled), "linking": latency, "clustering": clustered})
    results = {"sizes": rows}
    table = Table(title="linking latency and clustering time vs accounts")
    for column in ("accounts", "exact ms/q", "ivf ms/q", "ivf recall@10", "cluster s", "peak RSS MB"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            f"{row['n']:,}",
            f"{row['linking']['exact']['median_query_ms']:.3f}",
            f"{row['linking']['ivf']['median_query_ms']:.3f}",
            f"{row['linking']['ivf']['recall@10']:.3f}",
            f"{row['clustering']['wall_s']:.2f}",
            f"{row['clustering']['peak_rss_mb']:.0f}",
        )
    console.print(table)
    return settings, results


# ------------------------------------------------------------------------------------------------- plots


def _save(fig, path: Path) -> Path:
    from authorid.io import atomic_write_bytes

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    return atomic_write_bytes(path, buffer.getvalue())


def write_plots(results: dict, folder: Path) -> list[Path]:
    """PNG figures of every section present in `results` (so a partial run re-plots what it has)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    if "scale" in results:
        rows = results["scale"]["results"]["sizes"]
        n = [r["n"] for r in rows]
        fig, (left, middle, right) = plt.subplots(1, 3, figsize=(12, 3.6))
        for kind in ("exact", "ivf"):
            left.loglog(n, [r["linking"][kind]["median_query_ms"] for r in rows], "o-", label=kind)
        for r in rows:  # IVF is approximate: say how much of the exact top-10 it finds
            ivf = r["linking"]["ivf"]
            left.annotate(f"{ivf['recall@10']:.2f}", (r["n"], ivf["median_query_ms"]), fontsize=7, va="top")
        left.set(
            xlabel="accounts in the index", ylabel="ms per query (median)", title="linking latency, top-10"
        )
        left.legend(title="(ivf: recall@10)", fontsize=8, title_fontsize=8)
        clustered = [r["clustering"] for r in rows]
        middle.loglog([c["n"] for c in clustered], [c["wall_s"] for c in clustered], "o-")
        middle.set(xlabel="accounts", ylabel="wall time (s)", title="cluster_accounts (mutual-kNN)")
        right.semilogx(
            [c["n"] for c in clustered], [c["peak_rss_mb"] for c in clustered], "o-", label="peak RSS"
        )
        right.semilogx(
            [c["n"] for c in clustered],
            [c["rss_growth_mb"] for c in clustered],
            "s--",
            label="growth while clustering",
        )
        right.set(xlabel="accounts", ylabel="MB", title="clustering memory (own process)")
        right.legend(fontsize=8)
        fig.tight_layout()
        written.append(_save(fig, folder / "speed_scale.png"))
        plt.close(fig)
    if "embed" in results:
        methods = {k: v for k, v in results["embed"]["results"]["methods"].items() if v.get("measured", True)}
        fig, ax = plt.subplots(figsize=(6, 3.6))
        bars = ax.bar(list(methods), [m["posts_per_s"] for m in methods.values()], color="tab:blue")
        for bar, row in zip(bars, methods.values(), strict=True):
            label = f"MRR {row['linking']['mrr']:.3f}" if "linking" in row else ""
            ax.annotate(
                label, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom"
            )
        ax.margins(y=0.15)  # room for the MRR labels above the bars
        ax.set(ylabel="posts per second", title=f"embedding {results['embed']['results']['n_posts']:,} posts")
        fig.tight_layout()
        written.append(_save(fig, folder / "speed_embed.png"))
        plt.close(fig)
    if "train" in results:
        losses = results["train"]["results"]["losses"]
        fig, ax = plt.subplots(figsize=(7, 3.6))
        ax.bar(list(losses), [row["examples_per_s"] for row in losses.values()], color="tab:green")
        ax.set(ylabel="examples (episodes) per second", title="training throughput per loss")
        ax.tick_params(axis="x", labelrotation=20)
        fig.tight_layout()
        written.append(_save(fig, folder / "speed_train.png"))
        plt.close(fig)
    return written


# -------------------------------------------------------------------------------------------------- main

RUNNERS: dict[str, Callable[[argparse.Namespace, Console], tuple[dict, dict]]] = {
    "embed": run_embed,
    "train": run_train,
    "scale": run_scale,
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sections", default="all", help="comma-separated: embed,train,scale (default: all)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON (sections merge into it)")
    p.add_argument("--plots", type=Path, default=DEFAULT_PLOTS, help="folder for the PNG figures")
    p.add_argument("--corpus", default="reddit_college", help="corpus preset or path (embed, train)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch and faiss threads (default: theirs)")
    embed = p.add_argument_group("embed")
    embed.add_argument("--n", type=int, default=2000, help="posts timed")
    embed.add_argument("--batch-size", type=int, default=64)
    embed.add_argument("--max-seq-length", type=int, default=128)
    embed.add_argument("--repeats", type=int, default=1)
    embed.add_argument("--link-accounts", type=int, default=300, help="accounts of the sybil set")
    embed.add_argument("--link-min-posts", type=int, default=20)
    embed.add_argument("--link-max-posts", type=int, default=8, help="cap on each half's most recent posts")
    train = p.add_argument_group("train")
    train.add_argument("--losses", default=",".join(TRAIN_LOSSES))
    train.add_argument("--steps", type=int, default=12, help="optimizer steps per loss")
    train.add_argument("--preset", default="quick")
    train.add_argument(
        "--train-set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra training override (repeatable)",
    )
    scale = p.add_argument_group("scale")
    scale.add_argument("--sizes", default=",".join(str(n) for n in SCALE_SIZES))
    scale.add_argument("--queries", type=int, default=200)
    scale.add_argument(
        "--nprobe", type=int, default=None, help="IVF cells per query (default: the index's, 1 in 8, >= 16)"
    )
    scale.add_argument(
        "--latency-threads",
        type=int,
        default=1,
        help="BLAS/OpenMP threads while timing queries (0: library default)",
    )
    scale.add_argument("--cluster-k", type=int, default=10)
    scale.add_argument("--threshold", type=float, default=0.9)
    scale.add_argument(
        "--vectors", type=Path, default=DEFAULT_VECTORS, help="cached account vectors (Parquet)"
    )
    scale.add_argument("--fit-posts", type=int, default=20_000)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.latency_threads = args.latency_threads or None
    sections = parse_sections(args.sections)
    logging.basicConfig(level=logging.WARNING)
    console = Console()
    if args.threads:
        import faiss
        import torch

        torch.set_num_threads(args.threads)
        faiss.omp_set_num_threads(args.threads)
    results = load_results(args.out)  # fails now, not after a long section, if the file is not JSON
    for name in sections:
        console.rule(f"[bold]{name}")
        started, date, tic = machine(), _now(), time.perf_counter()
        settings, body = RUNNERS[name](args, console)
        record = section_record(settings, body, started=started, date=date, seconds=time.perf_counter() - tic)
        results = merge_sections(load_results(args.out), {name: record})  # re-read: keep a parallel run's
        write_results(args.out, results)
        console.log(f"{name}: {record['seconds']:.0f} s; wrote {args.out}")
    for path in write_plots(results, args.plots):
        console.log(f"plot: {path}")


if __name__ == "__main__":
    main()
