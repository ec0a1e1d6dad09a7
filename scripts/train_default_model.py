"""Train the default style model (`style`) from the shared corpora and package it into authorid/pretrained/style.

    .venv/bin/python scripts/train_default_model.py            # ~9 minutes on 2 cores, <= 6 GB

What it runs is the product's own API, nothing else:
1. `ingest("reddit_college")` (the shared Reddit corpus, cleaned as every command cleans it);
2. the benchmark's split (`split(..., "open-world", seed=0, fractions=(1, 0, 0), test_accounts=1000,
   min_posts=20)`, the one `scripts/bench_quality.py` uses), so the 1,000 Reddit benchmark test accounts
   are never trained or validated on; C50, Blog and Enron are never read, so they measure how it generalises;
3. `train(pool, preset="ngram")`, the n-gram encoder's preset (SupCon, 256 accounts x 2 disjoint episodes of
   <= 8 posts, 7 minutes of optimisation; `authorid train POOL --preset ngram` does the same);
4. `package_model` (authorid.pretrained.package): the weights, calibration and training-account hashes, a
   model card with every file's checksum and the measured quality (benchmarks/results/pretrained.json, from
   scripts/bench_pretrained.py, when it exists), no user names.

Seeded: the same command on the same corpus gives the same metrics (up to how many steps fit in the time budget
on a loaded machine: pass --steps N for an exact step count).

    .venv/bin/python scripts/train_default_model.py --recalibrate   # ~1 minute: new calibration, same weights

refits the packaged model's calibration as its training run's export did (`fit_calibration` on the run's
validation accounts, its method and seed) and re-packages it, weights unchanged. The validation accounts are
rebuilt from the corpus with the run's own recorded data settings and seed (`prepare_data`), and checked against
the packaged training-account hashes. This is how a calibration gains what later versions fit (the cohort fit of
stop 29) without retraining.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchlib.settings import PROFILES, load_setting  # noqa: E402

from authorid.pretrained import FOLDER  # noqa: E402
from authorid.pretrained.card import style_card  # noqa: E402
from authorid.pretrained.package import package_model, scrubbed_metadata  # noqa: E402

SOURCE = (
    "reddit_college (Reddit threads of 8 college subreddits, 2011-2022) minus the 1,000 accounts of the"
    " authorid Reddit benchmark"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=REPO / "runs" / "default_model")
    parser.add_argument("--out", type=Path, default=FOLDER / "style", help="where the packaged model goes")
    parser.add_argument("--seconds", type=float, default=None, help="optimisation budget (preset: 420)")
    parser.add_argument("--steps", type=int, default=None, help="exact step count instead of a time budget")
    parser.add_argument("--card-only", action="store_true", help="re-package the trained model (new card)")
    parser.add_argument(
        "--recalibrate",
        action="store_true",
        help="refit the packaged model's calibration on its run's validation accounts and re-package it",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    trained = args.work / "model"
    if args.recalibrate:
        trained = recalibrated(FOLDER / "style", args.work / "recalibrated", args.work / "cache")
    elif not args.card_only:
        import authorid

        setting = load_setting("reddit", PROFILES["cpu"], args.work / "cache")
        overrides = {"ngram.counts_cache": str(args.work / "ngram-counts")}
        if args.seconds is not None:
            overrides["run.max_seconds"] = args.seconds
        if args.steps is not None:
            overrides |= {"run.max_steps": args.steps, "run.max_seconds": None}
        authorid.train(
            setting.train,
            out=trained,
            preset="ngram",
            overrides=overrides,
            overwrite=True,
            progress=sys.stderr.isatty(),
        )
    # The card names the corpus as the package does, not by the local path the run recorded.
    meta = scrubbed_metadata(json.loads((trained / "authorid.json").read_text()), source=SOURCE)
    results = REPO / "benchmarks" / "results" / "pretrained.json"
    quality = json.loads(results.read_text()) if results.is_file() else None
    card = style_card(meta, quality=quality, command="python scripts/train_default_model.py")
    folder = package_model(trained, args.out, name="style", card=card, source=SOURCE)
    size = sum(p.stat().st_size for p in folder.iterdir())
    print(f"packaged model written to {folder} ({size / 2**20:.1f} MiB)")


def recalibrated(packaged: Path, work: Path, cache: Path) -> Path:
    """A copy of the `packaged` model in `work` whose calibration is refitted as the training export fits it."""
    import shutil

    from authorid.account_hashes import training_accounts_mask
    from authorid.artefacts import CALIBRATION_FILE
    from authorid.model import load_model
    from authorid.training import resolve_config
    from authorid.training.data import prepare_data
    from authorid.workflows.calibrate import fit_calibration

    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(packaged, work)
    meta = json.loads((work / "authorid.json").read_text())
    cfg = resolve_config(meta["config"])
    setting = load_setting("reddit", PROFILES["cpu"], cache)
    val = prepare_data(setting.train, cfg.data, seed=cfg.run.seed).calibration_posts
    accounts = sorted(set(val["account_id"]))
    missing = int((~training_accounts_mask(work, accounts)).sum())
    if missing:
        raise SystemExit(f"{missing} rebuilt validation accounts are not the run's: corpus or split changed")
    old = json.loads((work / CALIBRATION_FILE).read_text())
    calibrator = fit_calibration(load_model(work), val, method=old["method"], seed=cfg.run.seed)
    calibrator.save(work / CALIBRATION_FILE)
    print(
        f"refitted {old['method']} on {len(accounts)} validation accounts: params {old['params']} ->"
        f" {calibrator.to_dict()['params']}; cohort fit: {calibrator.cohort is not None}"
    )
    return work


if __name__ == "__main__":
    main()
