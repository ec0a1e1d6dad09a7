"""Forward + backward time of each training loss on one P x K batch, relative to plain CE.

    .venv/bin/python scripts/bench_losses.py --out runs/bench_losses.json

Defaults: 64 classes x 4 samples = 256 embeddings of 384 dimensions, 1000 training classes for the headed
losses, float32 on the CPU, median (and min) over repeats after warm-up,
the losses taking turns within each repeat. The JSON records the machine and settings.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from benchlib.machine import machine
from rich.console import Console
from rich.table import Table

from authorid.losses import LOSSES, build, total_loss


def time_losses(
    names: list[str],
    embeddings: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    repeats: int,
    warmup: int,
) -> dict[str, list[float]]:
    """Seconds per forward + backward (loss, head and embedding gradients) for each loss, one entry per repeat.

    The losses take turns within every repeat, so a neighbour's load on a shared machine hits all of them alike.
    """
    losses = {}
    for name in names:
        torch.manual_seed(0)
        losses[name] = build(name, embeddings.shape[1], num_classes).to(embeddings.device)
    times: dict[str, list[float]] = {name: [] for name in names}
    for step in range(warmup + repeats):
        for name, loss in losses.items():
            x = embeddings.detach().clone().requires_grad_(True)
            loss.zero_grad(set_to_none=True)
            if x.is_cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            total_loss(loss(x, labels)).backward()
            if x.is_cuda:
                torch.cuda.synchronize()
            if step >= warmup:
                times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/bench_losses.json"))
    parser.add_argument("--classes-per-batch", type=int, default=64)
    parser.add_argument("--samples-per-class", type=int, default=4)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--num-classes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: leave torch's default)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--losses", default=",".join(LOSSES), help="comma-separated names or sums")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    started = machine()
    generator = torch.Generator().manual_seed(0)
    batch = args.classes_per_batch * args.samples_per_class
    embeddings = torch.randn(batch, args.dim, generator=generator).to(args.device)
    labels = torch.randperm(args.num_classes, generator=generator)[: args.classes_per_batch]
    labels = labels.repeat_interleave(args.samples_per_class).to(args.device)

    names = [n.strip() for n in args.losses.split(",") if n.strip()]
    if "ce" not in names:
        names.insert(0, "ce")  # the reference every ratio is taken against
    times = time_losses(names, embeddings, labels, args.num_classes, args.repeats, args.warmup)
    medians = {name: statistics.median(values) for name, values in times.items()}
    rows = [
        {
            "loss": name,
            "median_ms": 1e3 * medians[name],
            "min_ms": 1e3 * min(values),
            "max_ms": 1e3 * max(values),
            "repeats": len(values),
            "ratio_to_ce": medians[name] / medians["ce"],
            "min_ratio_to_ce": min(values) / min(times["ce"]),
        }
        for name, values in times.items()
    ]

    report = {
        "machine": started,
        "device": args.device,
        "settings": {
            "batch": batch,
            "classes_per_batch": args.classes_per_batch,
            "samples_per_class": args.samples_per_class,
            "dim": args.dim,
            "num_classes": args.num_classes,
            "dtype": str(embeddings.dtype),
            "warmup": args.warmup,
            "repeats": args.repeats,
        },
        "results": rows,
    }
    console = Console(width=110)
    table = Table(
        title=f"forward+backward, batch {batch} x {args.dim}, {args.num_classes} classes, "
        f"{report['machine']['torch_threads']} thread(s), {args.device}"
    )
    for column in ("loss", "median ms", "min ms", "max ms", "x ce (median)", "x ce (min)"):
        table.add_column(column, justify="left" if column == "loss" else "right")
    for row in rows:
        table.add_row(
            row["loss"],
            f"{row['median_ms']:.2f}",
            f"{row['min_ms']:.2f}",
            f"{row['max_ms']:.2f}",
            f"{row['ratio_to_ce']:.2f}",
            f"{row['min_ratio_to_ce']:.2f}",
        )
    console.print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
