"""The model card (README.md) of a trained style encoder: use, misuse, risks, data, training, metrics."""

from __future__ import annotations

import json


def _number(value) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4f}"
    return str(int(value)) if isinstance(value, float) else str(value)


def _metrics_table(metrics: dict | None) -> str:
    if not metrics:
        return "_No validation was run._"
    rows = ["| metric | value |", "|---|---|"]
    rows += [f"| {k} | {_number(v)} |" for k, v in metrics.items()]
    return "\n".join(rows)


def _metrics_section(val: dict, steps: int) -> str:
    """Validation before training and at the checkpoint exported; what was exported when no validation ran, or
    when none beat the start (audit 12: the card said "None selects the checkpoint", "step None", and a run
    whose validation never improved read as trained)."""
    primary, best_step = val.get("primary"), val.get("best_step")
    if not primary or best_step is None:
        return (
            "## Metrics\n_No validation was run_ (run.eval_every -1, or no validation accounts): the weights of"
            f" the last step ({steps}) were exported, chosen by nothing."
        )
    start = (
        f"\n\n**Validation never beat the starting weights in {steps} steps: the weights exported are the"
        " start's (step 0), not trained ones.**"
        if best_step == 0 and steps > 0
        else ""
    )
    return f"""## Metrics (validation, {primary} selects the checkpoint)
Before training:

{_metrics_table(val.get("initial"))}

Best checkpoint (step {best_step}):

{_metrics_table(val.get("best"))}{start}"""


def _what_it_is(meta: dict, what: str) -> str:
    if meta.get("encoder") == "ngram":
        return f"""A hashed character and word n-gram encoder trained by [authorid](https://github.com/) so that the
cosine of two accounts' vectors reflects **writing style**; it {what}. An account's vector is built
from the tf-idf profile of its posts' summed n-gram counts: a trained projection of it and a sketch of it
with learned per-n-gram weights, both centred on the mean of the accounts embedded together, taken at each
account's post count (or on the training accounts' mean, for a few accounts alone). Load it with
`authorid.model.load_model("<this folder>")` for account vectors and, when `calibration.json` is present,
calibrated P(same person)."""
    return f"""A sentence-transformers model fine-tuned by [authorid](https://github.com/) to map posts to vectors whose
cosine similarity reflects **writing style**; it {what}. Load it with `SentenceTransformer("<this folder>")` for post
vectors, or `authorid.model.load_model("<this folder>")` for account vectors
({meta["pooling"]} pooling of post vectors) and, when `calibration.json` is present, calibrated
P(same person)."""


def _architecture(meta: dict) -> str:
    if meta.get("encoder") != "ngram":
        return f"Base: `{meta['base']}`; max sequence length {meta['max_seq_length']}; pooling {meta['pooling']}."
    n = meta.get("ngram") or {}
    blocks = [f"char {n.get('char_ngrams')}-grams in {n.get('char_buckets', 0):,} buckets"]
    if n.get("word_buckets"):
        blocks.append(f"word {n.get('word_ngrams')}-grams in {n.get('word_buckets'):,} buckets")
    sketch = (
        f" and a {n.get('sketch_dim'):,}-dim count sketch of the profile"
        + (" with learned per-bucket weights" if n.get("sketch_weights") else "")
        if n.get("sketch_dim")
        else ""
    )
    return (
        f"Encoder: hashed n-grams ({', '.join(blocks)}), idf fitted on {n.get('idf_from', 'the training posts')};"
        f" a trained {n.get('dim')}-dim projection ({n.get('table_rows'):,} table rows){sketch}; score ="
        f" {n.get('mix')} x the projection's cosine + {1 - float(n.get('mix') or 0):g} x the sketch's; table optimiser"
        f" {n.get('optimizer')} at lr {n.get('lr')}."
    )


def _splits_line(data: dict) -> str:
    """Where the split is recorded: authorid made it (seed, counts in `authorid.json`, the full assignment in
    `split_manifest.json`), or the caller gave the training and validation posts already split."""
    held = (data.get("splits") or {}).get("corpus-split")
    if held:  # attribution on a corpus with its own split (C50): its test posts never trained or validated
        counts = held.get("counts", {})
        return (
            f"The corpus' own split column came first: its {counts.get('test_posts', 0):,} test posts were held out,"
            f" and only its {counts.get('train_posts', 0):,} train posts were trained or validated on. Split"
            " manifests (seed and counts) are in `authorid.json`, the full split in `split_manifest.json`."
        )
    if data.get("splits"):
        return "Split manifests (seed and counts) are in `authorid.json`, the full split in `split_manifest.json`."
    return "The training and validation posts were given already split; no split manifest was written."


def model_card(meta: dict) -> str:
    """Markdown model card from the `authorid.json` metadata of the model."""
    data, loss, val, run = meta["data"], meta["loss"], meta["validation"], meta["training"]
    task = meta["task"]
    what = (
        "links accounts of the same writer (open world: writers never seen in training)"
        if task == "open-world"
        else "attributes texts to one of the authors it was trained on (closed set)"
    )
    ngram = meta.get("encoder") == "ngram"
    return f"""---
library_name: {"authorid" if ngram else "sentence-transformers"}
tags: [authorid, authorship, stylometry{", ngram" if ngram else ", sentence-transformers"}]
{f"base_model: {meta['base']}" + chr(10) if meta.get("base") else ""}---

# authorid style encoder ({loss["name"]}, {task})

{_what_it_is(meta, what)}

## Intended use
- Research on authorship attribution, verification and account linking on forums.
- Trust-and-safety triage by trained staff: surfacing *candidate* sock-puppet or ban-evasion accounts for
  human review, with the evidence (posts) shown to the reviewer.
- Evaluating how well writing style identifies people, to inform privacy protections.

## Out-of-scope use
- Identifying, exposing or profiling people who write anonymously or pseudonymously: whistle-blowers,
  survivors, activists, dissidents, journalists' sources, people seeking help on support forums.
- Any decision with legal, employment, immigration, financial or safety consequences made on its output
  alone, or without the person being able to contest it.
- Linking accounts across platforms whose users never consented to such analysis, or outside the law
  (e.g. without a lawful basis under the GDPR; stylometric profiles can be personal data).
- Text in languages, genres or lengths far from the training data (see below): scores are not comparable.

## Risks for the people whose accounts get linked
- **False links** harm innocent people: two writers with a shared dialect, profession, template, or a
  copied text look alike. A similarity or probability is evidence to weigh, never proof of identity.
- **True links** can harm too: unmasking an account can expose someone to harassment, persecution or
  violence. Linking is a capability to use only where the benefit clearly outweighs this risk.
- Style drifts with time, topic, mood and platform; a person who writes differently is missed, and the
  error rates differ between groups of writers (non-native writers, short posters, rare dialects).
- Posts can leak identity through content (names, signatures, places) rather than style; the encoder may
  have learned such shortcuts. Check what drives a match before acting on it.
- Mitigations: keep a human in the loop, use the abstain band of the calibrated verifier, restrict access,
  log queries, and prefer evaluation on data of the deployment's own population.

## Training data
- Source: `{data["source"]}` (fingerprint `{data["fingerprint"][:16]}`); {data["train_accounts"]:,} training
  accounts / {data["train_posts"]:,} posts; validation {data["val_accounts"]:,} accounts /
  {data["val_posts"]:,} posts ({"author-disjoint" if task == "open-world" else "same authors, held-out posts"}).
- {_splits_line(data)}
- The texts belong to their writers; the model may memorise fragments of them.

## Training
- {_architecture(meta)}
- Loss: `{loss["name"]}` with hyper-parameters `{json.dumps(loss["params"])}` (others at their paper defaults).
- Episodes: {meta["episodes"]["accounts_per_batch"]} accounts x {meta["episodes"]["episodes_per_account"]}
  episodes x {meta["episodes"]["posts_per_episode"]} posts per batch.
- {run["steps"]} optimizer steps, {run["epochs"]:.2f} epochs, {run["examples_per_s"]:.1f} episodes/s on
  {run["device"]} x {run["world_size"]} (mixed precision: {run["mixed_precision"]}); stopped early:
  {run["stopped_early"]}.

{_metrics_section(val, run["steps"])}

Validation accounts are few and come from the training corpus' population: expect lower figures on other
forums and larger candidate pools. The training curves are in `training_curves.png`.
"""
