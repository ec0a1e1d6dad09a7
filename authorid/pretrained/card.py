"""The model card of the packaged `style` model: what it is, its terms, measured quality, failure modes, retraining.

The generic sections (intended and out-of-scope use, risks, training details, validation) come from
`authorid.training.card.model_card`; this adds what a packaged, pretrained model owes its users.
"""

from __future__ import annotations

from authorid.encoders.size_centre import MIN_CENTRE_GROUPS
from authorid.training.card import model_card

#: Rows of the measured-quality table, in order, with their labels.
QUALITY_ROWS = {
    "style": "`style` (this model)",
    "char-ngram": "char 4-gram TF-IDF (PAN baseline)",
    "stylometric": "`stylometric` (untrained profile)",
    "minilm": "`minilm` (untuned MiniLM)",
    "minilm:raw": "`minilm:raw` (the same, account vectors not centred)",
}


def quality_table(quality: dict | None) -> str:
    """Markdown: per corpus, linking MRR (sybil protocol) and verification AUC of each row."""
    if not quality:
        return "_Not measured yet: run `python scripts/bench_pretrained.py`, then package the model again._"
    lines = [
        "| corpus | accounts | " + " | ".join(QUALITY_ROWS.values()) + " |",
        "|---|---|" + "---|" * len(QUALITY_ROWS),
    ]
    for corpus, entry in quality["corpora"].items():
        cells = []
        for row in QUALITY_ROWS:
            result = entry["rows"].get(row)
            cells.append(
                "—"
                if result is None
                else f"{result['sybil']['mrr']:.3f} / {result['verification']['auc']:.3f}"
            )
        lines.append(f"| {corpus} | {entry['accounts']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def style_card(meta: dict, *, quality: dict | None, command: str) -> str:
    """The packaged model's README.md (without the files table, which packaging appends)."""
    generic = model_card(meta)
    body = generic.split("\n# ", 1)[1].split("\n", 1)[1]  # the generic card after its title
    machine = (quality or {}).get("machine", "")
    return f"""---
library_name: authorid
tags: [authorid, authorship, stylometry, ngram]
license: other
---

# `style`: authorid's pretrained style model

The default MODEL of authorid (`authorid embed style CORPUS`, `load_model("style")`): a hashed character
and word n-gram encoder trained on Reddit to tell writers apart by style. It ships inside the package
(about 19 MB), loads offline in about a second, and embeds thousands of posts a second on one CPU core.

## Terms
- **Code**: Apache-2.0, like the rest of authorid.
- **Weights**: derived from Reddit posts (the `reddit_college` corpus). Reddit content belongs to its writers
  and is made available for research; these weights are shared **for research and non-commercial
  trust-and-safety evaluation only**, under Reddit's data terms, not under Apache-2.0. Retrain on data you
  hold the rights to (below) for anything else.
- No user names ship: the training accounts are kept only as salted hashes (`training_accounts.json`), so
  `authorid evaluate` can leave them out of an evaluation, and nobody can list them.

## Where it is weak
- **Short texts**: a single post of a few words carries little style; link accounts with many posts each.
- **Other languages**: trained on English Reddit; in other languages only the character n-grams work.
- **Genre shift**: e-mail, news and blogs differ from Reddit comments; it still beats the baselines on
  them (table below), but by less, and its scores are not comparable across genres.
- **Shared or taken-over accounts**, templates, quotes and copied text make different people look alike.
- **Few accounts at once**: vectors are centred on the mean of the accounts embedded together, taken at each
  account's post count; alone (fewer than {MIN_CENTRE_GROUPS} accounts) they are centred on the training mean,
  which fits Reddit better than other genres. An index fixes the centre of the accounts it enrols.

## Measured quality (never trained on these corpora)
Linking MRR (sybil protocol: each account cut in two halves; a half ranks the other halves) / verification
AUC (same-author pairs against different-author pairs), side by side in one run{f" ({machine})" if machine else ""}:

{quality_table(quality)}

Reproduce: `python scripts/bench_pretrained.py` (it runs `authorid evaluate` for every model row).

## Retrain or adapt
- The same model from scratch: `{command}` (reddit_college needed; ~9 minutes on 2 cores).
- Your own forum: `authorid train YOUR_DUMP --preset ngram -o my-model` (a fresh model), or
  `authorid train YOUR_DUMP --base style -o my-model` to continue from this one (domain adaptation).

# The model in detail
{body}"""
