"""BENCHMARKS.md and the README's headline block are generated from the committed JSON, never typed by hand."""

from __future__ import annotations

import json

import make_benchmarks_md as md
import numpy as np
import pytest


def _setting(kind: str, rows: dict) -> dict:
    return {"kind": kind, "description": "d", "counts": {}, "rows_order": list(rows), "rows": rows}


def _linking(mrr: float) -> dict:
    return {"metrics": {"linking": {"mrr": mrr, "r@1": 0.1, "r@8": 0.2}, "verification": {}}, "budget": {}}


def test_the_committed_pages_match_the_committed_json():
    loaded = [md._load(name) for name in ("quality", "speed", "pretrained", "persons", "explain", "sizes")]
    assert md.BENCHMARKS_MD.read_text() == md.render(*loaded)
    assert md.readme_block(loaded[0]) in md.README.read_text()


def test_headline_compares_the_best_peer_with_the_best_authorid_row():
    quality = {
        "settings": {
            "reddit": _setting(
                "linking",
                {
                    "char-ngram": _linking(0.2),
                    "cosine-delta": _linking(0.25),
                    "minilm": _linking(0.15),
                    "supcon": _linking(0.3),
                },
            ),
            "c50": _setting(
                "attribution",
                {"char-ngram": {"metrics": {"attribution": {"accuracy": 0.7, "macro_f1": 0.69}}}},
            ),
        }
    }
    lines = md.headline(quality)
    assert lines[2] == (
        "| Reddit sybil linking and verification | linking MRR | 0.250 (Cosine Delta (bitig)) |"
        " 0.300 (MiniLM fine-tuned, supcon) |"
    )
    assert len(lines) == 4  # the example has no verification figures: no AUC line
    assert (
        lines[3]
        == "| Reuters C50 attribution | accuracy | 0.700 (char 3-gram + LinearSVC (PAN18 baseline)) | – |"
    )


def test_rows_keep_the_benchmarks_table_order_not_the_order_they_finished():
    setting = _setting("linking", {"supcon": _linking(0.3), "minilm": _linking(0.1)})
    setting["rows_order"] = ["minilm", "supcon"]
    table = md.linking_table(setting)
    assert table[2].startswith("| all-MiniLM-L6-v2, untuned (`minilm`) |") and table[3].startswith(
        "| MiniLM fine-tuned, supcon |"
    )


def test_the_results_are_valid_json_with_a_machine_per_row():
    quality = json.loads((md.RESULTS / "quality.json").read_text())
    for setting in quality["settings"].values():
        for row in setting["rows"].values():
            assert row["budget"]["machine"] and "eval_seconds" in row["budget"]


def test_ngram_rows_are_named_by_loss_batch_and_width():
    assert md._name("ngram:supcon") == "n-gram encoder, supcon"
    assert (
        md._name("ngram:nbc-softmax@2048")
        == "n-gram encoder, nbc-softmax, 2048 accounts a step (trained path only, 256-d)"
    )
    assert md._name("ngram:ce", "attribution") == "n-gram encoder, ce"
    assert md._name("ngram-fusion:minilm") == "fused model: n-gram supcon + minilm (authorid fuse)"


def _pairing(accounts: int, flagged: int, mean_p: float, share: float, consistent: bool) -> dict:
    return {
        "accounts": accounts,
        "same_median_cosine": 0.1,
        "different_median_cosine": -0.003,
        "auc": 0.9,
        "ece": 0.001,
        "flagged": flagged,
        "flagged_mean_p": mean_p if flagged else None,
        "flagged_same_share": share if flagged else None,
        "consistent_with_target": consistent if flagged else None,
    }


def test_every_account_sizes_run_gets_its_own_table_with_each_pairings_accounts():
    pairings = {"2x2": _pairing(1000, 0, 0, 0, True), "20x20": _pairing(400, 50, 0.8, 0.96, False)}
    entry = {"fitted_on": "shipped", "pooled": {"flagged": 50, "expected_same": 40.0, "same": 48}}
    sizes = {
        "calibrations": {"own": entry | {"pairings": {k: v | {"accounts": 300} for k, v in pairings.items()}}}
    }
    every = {"command": "python scripts/bench_sizes.py --every-account", "accounts": "every account"}
    every["calibrations"] = {"own": entry | {"pairings": pairings}}
    lines = md.sizes_section(sizes, every=every)
    start = lines.index(
        "| A x B posts | accounts | median cosine same / different | AUC | `own`: n, mean P, share |"
    )
    assert lines[start + 2 :][:2] == [
        "| 2x2 | 1,000 | 0.100 / -0.003 | 0.900 | 0 |",
        "| 20x20 | 400 | 0.100 / -0.003 | 0.900 | 50, 0.80, 0.96 x |",
    ]
    # the 300-account run's table has no accounts column
    assert "| A x B posts | median cosine same / different | AUC | `own`: n, mean P, share |" in lines


def test_few_twins_rows_give_each_pools_pairs_against_the_precision_cluster_promised():
    # a draw counts as reaching 0.9 at exactly 9 right of 10 (no float rounding), or when it formed no pair
    draws = [
        {"accounts": 537, "prior": 1 / 2937, "pairs": pairs, "right": right}
        for pairs, right in ((10, 9), (54, 34))
    ]
    pool = {"draws": draws, "pairs": 64, "right": 43, "big_pairs": 0, "big_right": 0}
    few = {
        "command": "python scripts/bench_few_twins.py",
        "updated": "2026-12-05",
        "machine": "m",
        "model": "style",
        "every": 10,
        "big_posts": 20,
        "pools": {"forum": pool | {"expected_pairwise_precision": 0.91, "big_pairs": 32, "big_right": 13}},
    }
    none = [draw | {"pairs": 0, "right": 0} for draw in draws]
    few["pools"]["benchmark"] = pool | {
        "draws": none,
        "expected_pairwise_precision": None,
        "pairs": 0,
        "right": 0,
    }
    lines = md.few_twins_section(few)
    assert lines[-3:-1] == [
        "| forum | 2 | 537 | 1/2,937 | 64 | 0.910 | 43 (0.672) | 1 | 32 | 13 (0.406) |",
        "| benchmark | 2 | 537 | 1/2,937 | 0 | – | 0 | 2 | 0 | – |",
    ]
    assert md.few_twins_section({}) == []


def test_a_sizes_pairing_says_how_often_exactly_right_p_would_meet_the_target():
    from bench_sizes import chance_within

    # 10 pairs at P 0.9: within 0.05 of 0.9 is exactly 9 of 10 one person, 10 x 0.9^9 x 0.1
    assert chance_within(np.full(10, 0.9)) == pytest.approx(10 * 0.9**9 * 0.1)
    # one pair at P 0.58: its share is 0 or 1, never within 0.05 of 0.58
    assert chance_within(np.array([0.58])) == 0.0
    # 3 pairs at 0.5, 0.9, 1.0 (mean 0.8): no share of 3 (0.667 or 1.0 the nearest) lies in the window 0.75-0.85
    assert chance_within(np.array([0.5, 0.9, 1.0])) == 0.0
    line = md._if_calibrated([{"within_if_calibrated": 0.5}, {"within_if_calibrated": 0.4}])
    assert line == " (were every P exactly right, 0.9 on average, and all 2 with chance 0.2)"
    assert md._if_calibrated([{"flagged": 3}]) == ""  # results written before stop 40


def test_attribution_through_the_command_heads_the_splits_with_every_post():
    def row(accuracy: float) -> dict:
        return {
            "accuracy": accuracy,
            "macro_f1": accuracy - 0.01,
            "texts": 10,
            "seconds": 2.0,
            "peak_mb": 900,
        }

    attribution = {
        "command": "python scripts/bench_attribution.py",
        "machine": "2 cores",
        "settings": {
            "c50": {
                "description": "Reuters C50",
                "authors": 50,
                "known_posts": 2495,
                "test_posts": 2497,
                "rows": {"char-ngram": row(0.75), "style:svm": row(0.76)},
            },
            "blog10-all": {
                "description": "Blog10, every post",
                "authors": 10,
                "known_posts": 17398,
                "test_posts": 2178,
                "rows": {"char-ngram": row(0.5), "style:svm": row(0.8), "style:centroid": row(0.4)},
            },
        },
    }
    quality = {
        "settings": {
            "c50": _setting(
                "attribution",
                {
                    "char-ngram": {"metrics": {"attribution": {"accuracy": 0.75, "macro_f1": 0.74}}},
                    "stylometric": {"metrics": {"attribution": {"accuracy": 0.745, "macro_f1": 0.74}}},
                },
            )
        }
    }
    assert md.headline(quality, attribution)[2:] == [
        # the command's row beats the quality table's best authorid row on the same split
        "| Reuters C50 attribution | accuracy | 0.750 (char 3-gram + LinearSVC (PAN18 baseline)) |"
        " 0.760 (`authorid attribute style --method svm`) |",
        # a split the quality table lacks gets its own line
        "| Blog10 attribution, every post | accuracy | 0.500 (char 3-gram + LinearSVC (PAN18 baseline)) |"
        " 0.800 (`authorid attribute style --method svm`) |",
    ]
    section = md.attribution_section(attribution)
    assert "### Blog10, every post" in section
    assert section.index("### Reuters C50, official split") < section.index("### Blog10, every post")
    assert "| `authorid attribute style --method svm` | 0.800 | 0.790 | 2 | 900 | 1.60x |" in section
    assert "| `authorid attribute style` (centroid) | 0.400 | 0.390 | 2 | 900 | 0.80x |" in section
