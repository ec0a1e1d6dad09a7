"""Fit the stored centre of `minilm`'s account vectors (authorid/pretrained/minilm_centre/).

    .venv/bin/python scripts/make_minilm_centre.py [--accounts 2000] [--max-posts 16]

`minilm` centres the accounts it embeds together on their own mean (authorid/encoders/centre.py); with fewer
than MIN_CENTRE_GROUPS accounts it uses this stored centre instead: the mean `minilm:raw` account vector of
`--accounts` seeded Reddit training-pool accounts (never the benchmark's test accounts), each its `--max-posts`
newest posts (accounts with at least 4). Needs ../shared/corpora (the Reddit corpus).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchlib.settings import PROFILES, load_setting, sampled_accounts  # noqa: E402

from authorid.encoders.centre import AccountCentre  # noqa: E402
from authorid.model import RAW_MINILM, load_model  # noqa: E402
from authorid.pretrained import MINILM_CENTRE_FOLDER  # noqa: E402
from authorid.schema import posts_from_records  # noqa: E402

MIN_POSTS = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--max-posts", type=int, default=16)
    parser.add_argument("--cache", type=Path, default=REPO / "runs" / "bench_quality" / "cache")
    parser.add_argument("--out", type=Path, default=MINILM_CENTRE_FOLDER)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    train = load_setting("reddit", PROFILES["cpu"], args.cache, seed=args.seed).train
    kept = (
        sampled_accounts(train, args.accounts, MIN_POSTS, args.seed)
        .groupby("account_id")
        .tail(args.max_posts)
    )
    posts = posts_from_records(
        [
            {"post_id": str(r.post_id), "account_id": str(r.account_id), "text": r.text}
            for r in kept.itertuples()
        ]
    )
    vectors = load_model(RAW_MINILM).embed_accounts(posts, progress=True)
    fitted_on = (
        f"{len(vectors)} seeded reddit_college training-pool accounts with >= {MIN_POSTS} posts, each its"
        f" {args.max_posts} newest ({posts.num_rows} posts; scripts/make_minilm_centre.py --seed {args.seed})"
    )
    AccountCentre.fit(vectors.vectors, fitted_on=fitted_on).save(args.out)
    (args.out / "README.md").write_text(CARD.format(fitted_on=fitted_on), encoding="utf-8")
    print(f"centre of {len(vectors)} accounts written to {args.out}")


CARD = """# The stored centre of `minilm`'s account vectors

`minilm` (the bundled all-MiniLM-L6-v2, untuned) centres its account vectors: a' = normalize(a - c)
(`authorid/encoders/centre.py` says why and what it gained). c is the mean of the accounts embedded together
when there are 20 or more of them; for fewer, or when nothing else is known, it is the vector stored here.

- `centre.safetensors`: c, float32 (384,); `centre.json`: the rule and what c was fitted on.
- Fitted on: {fitted_on}.
- Made by `python scripts/make_minilm_centre.py` (needs ../shared/corpora); `minilm:raw` is the same encoder
  without centring.
- The Reddit texts it averages are not stored, only their mean vector.
"""


if __name__ == "__main__":
    main()
