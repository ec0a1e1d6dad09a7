"""`explain`: exact decomposition of a similarity over n-grams, masked identifiers never shown, the CLI's files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from authorid.data.clean import clean
from authorid.encoders import NgramEncoder
from authorid.encoders.ngram import summed_counts
from authorid.encoders.size_centre import SizeCentre
from authorid.evidence.decompose import ngram_contributions
from authorid.evidence.terms import account_terms, bucket_of, habit_kind
from authorid.model import StyleModel
from authorid.schema import posts_from_records
from authorid.workflows.explain import ExplainError, explain

A_POSTS = ["Honestly i think so... lol", "i dunno :) maybe tmrw", "lol ok i'll check <URL> later"]
B_POSTS = ["i think so too... lol", "Maybe. I will check later :)", "ok see u tmrw lol"]


def _posts(extra: dict[str, list[str]] | None = None):
    groups = {"alice": A_POSTS, "bob": B_POSTS, **(extra or {})}
    records = [
        {"post_id": f"{account}-{i}", "account_id": account, "text": text}
        for account, texts in groups.items()
        for i, text in enumerate(texts)
    ]
    return posts_from_records(records)


def test_the_contributions_of_a_hand_made_pair_sum_to_its_similarity():
    """Two tiny accounts (of 2 posts and 1), unigram characters only, each centred at its own post count: the
    split over buckets is exact, bucket by bucket."""
    encoder = NgramEncoder(
        char_ngrams=[1, 1], char_buckets=64, word_buckets=0, dim=4, sketch_dim=8, centre="fixed"
    ).fit(["aab", "abc", "bcd", "cdd"])
    summed = summed_counts(encoder.counts(["aab", "ab", "bc"]), np.array([0, 0, 1]), 2)
    stored = np.concatenate([encoder.centre_trained.numpy(), encoder.centre_sketch.numpy()])
    encoder.sized_centre = SizeCentre([0.0, 1.0], [stored, 0.5 * stored])  # 1 post: stored; 2 posts: half
    n_posts = np.array([2, 1])
    result = ngram_contributions(encoder, summed, encoder.stored_centre().rows(n_posts))
    vectors = encoder.embed_summed(summed, n_posts)
    assert result.similarity == pytest.approx(float(vectors[0] @ vectors[1]), abs=1e-6)
    assert result.total() == pytest.approx(result.similarity, abs=1e-6)
    # features: the buckets of a, b (A) and b, c (B): nothing else contributes
    assert set(result.values) == {bucket_of(c, 64) for c in "abc"}


def test_explain_splits_the_style_models_similarity_exactly_and_reads_the_ngrams_back():
    evidence = explain("style", _posts(), "alice", "bob")
    decomposition = evidence["decomposition"]
    assert decomposition["exact"] and decomposition["sum"] == pytest.approx(evidence["similarity"], abs=1e-6)
    assert 0 <= evidence["probability"] <= 1 and evidence["decision"] in ("same", "different", "abstain")
    shared = {n["text"] for e in evidence["shared"] for n in e["ngrams"]}
    assert shared and all(s in " ".join(A_POSTS) or s.split(" ")[0] in " ".join(A_POSTS) for s in shared)
    assert all(e["contribution"] > 0 for e in evidence["for"][:3])
    assert evidence["against"][0]["contribution"] <= evidence["for"][-1]["contribution"]
    for posts in evidence["posts"].values():
        for post in posts:
            assert all(post["text"][s["start"] : s["end"]] for s in post["spans"])


def test_masked_identifiers_never_appear_and_a_shared_mask_is_a_possible_leak(tmp_path):
    raw = _posts(
        {
            "carol": ["mail me at carol.smith@example.org or see https://example.org/carol", "see you"],
            "dave": ["write to carol.smith@example.org, details at https://example.org/carol", "bye"],
        }
    )
    posts, _ = clean(raw)
    evidence = explain("style", posts, "carol", "dave", out=tmp_path / "ev")
    written = (tmp_path / "ev" / "evidence.json").read_text() + (
        tmp_path / "ev" / "evidence.html"
    ).read_text()
    for identifier in ("carol.smith@example.org", "example.org/carol", "https://"):
        assert identifier not in written
    assert any(e["kind"] == "leak" for e in evidence["possible_leaks"])


def test_the_brackets_of_a_mask_are_no_punctuation_habit_unless_the_writer_types_them():
    """Audit 11: '<' and '>' (and '- <' before a signature's <EMAIL>) came only from the mask tokens cleaning
    put in, yet led the evidence as the pair's "punctuation habit"."""
    params = {"char_ngrams": [1, 3], "char_buckets": 2**12, "word_ngrams": [1, 2], "word_buckets": 2**12}
    params |= {"lowercase_words": False}
    terms = account_terms(params, ["mail me - <EMAIL> ok", "see <URL>"], ["write - <EMAIL>", "<3 a < b"])
    kinds = {(t.block, t.text): t.kind for ts in terms.values() for t in ts}
    assert (
        kinds["char", ">"] == kinds["char", "- <"] == kinds["word", "- <"] == kinds["char", " <E"] == "leak"
    )
    # the second account types '<' itself: that one is a habit
    assert kinds["char", "<"] == kinds["word", "<"] == "punctuation" and kinds["char", "<3"] == "emoticon"
    assert kinds["char", "- "] == "punctuation" and kinds["word", "mail"] == "word"


def test_habits_of_ngrams():
    assert habit_kind("...", "char") == "punctuation"
    assert habit_kind(":)", "char") == "emoticon"
    assert habit_kind("I will", "word") == "casing"
    assert habit_kind("of the", "word") == "function"
    assert habit_kind("tmrw", "word") == "word"
    assert habit_kind("URL>", "char") == "leak" and habit_kind("< URL >", "word") == "leak"
    # pieces of a mask token with the writer's punctuation around them (PAN's Enron `<NAME/>` placeholder)
    assert habit_kind(". <N", "char") == habit_kind("/>,", "char") == habit_kind("AME/", "char") == "leak"
    assert "leak" not in (habit_kind(". I", "char"), habit_kind("e, ", "char"), habit_kind("<3", "char"))
    params = {"char_ngrams": [1, 2], "char_buckets": 2**10, "word_ngrams": [1, 1], "word_buckets": 2**10}
    params |= {"lowercase_words": False}
    terms = account_terms(params, ["ab ab"], ["ab"])
    ab = next(t for ts in terms.values() for t in ts if t.text == "ab" and t.block == "char")
    assert ab.uses == [2, 1] and ab.bucket == bucket_of("ab", 2**10)
    word = next(t for ts in terms.values() for t in ts if t.text == "ab" and t.block == "word")
    assert word.bucket == 2**10 + bucket_of("ab", 2**10)


def test_unknown_accounts_are_named_with_the_closest_matches():
    with pytest.raises(ExplainError, match=r"account 'alicee' is not in the corpus .* did you mean 'alice'"):
        explain("style", _posts(), "alicee", "bob")
    with pytest.raises(ExplainError, match="two different accounts"):
        explain("style", _posts(), "alice", "alice")


def test_a_transformer_like_model_shows_post_pairs_labelled_approximate(enron_posts):
    from authorid.model import load_model

    model = load_model("stylometric:16", fit_corpus=enron_posts)  # reduced: no exact split over features
    first, second = list(dict.fromkeys(enron_posts["account_id"]))[:2]
    evidence = explain(model, enron_posts, first, second)
    assert not evidence["decomposition"]["exact"] and len(evidence["post_pairs"]) == 3
    assert evidence["probability"] is None and evidence["decision"] == "unscored"
    assert isinstance(model, StyleModel) and math.isfinite(evidence["similarity"])


def test_the_cli_writes_both_files_and_prints_where(tmp_path):
    from authorid.cli import app

    corpus = tmp_path / "posts.jsonl"
    records = [json.loads(line) for line in []]
    for account, texts in {"alice": A_POSTS, "bob": B_POSTS}.items():
        records += [{"id": f"{account}{i}", "author": account, "text": t} for i, t in enumerate(texts)]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = CliRunner().invoke(
        app, ["explain", "style", str(corpus), "alice", "bob", "-o", str(tmp_path / "ev")]
    )
    assert result.exit_code == 0, result.output
    for name in ("evidence.json", "evidence.html"):
        assert f"{tmp_path / 'ev' / name}" in result.output and (tmp_path / "ev" / name).stat().st_size > 0
    page = (tmp_path / "ev" / "evidence.html").read_text()
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")


def test_with_an_index_only_the_pair_is_embedded_and_the_answer_is_the_same(enron_posts, tmp_path):
    from authorid.workflows.index import build_account_index

    first, second = list(dict.fromkeys(enron_posts["account_id"]))[:2]
    build_account_index(load_model_style(), "style", enron_posts, tmp_path / "idx")
    slow = explain("style", enron_posts, first, second)
    fast = explain("style", enron_posts, first, second, index=tmp_path / "idx")
    assert fast["similarity"] == pytest.approx(slow["similarity"], abs=1e-5)
    assert fast["decomposition"]["sum"] == pytest.approx(fast["similarity"], abs=1e-6)
    assert fast["centre"] == "the index's enrolled accounts"
    # the same pairs of the same accounts, the pair's own left out of both (audit 16: the index's counted itself)
    assert fast["corpus_pairs"]["pairs"] == slow["corpus_pairs"]["pairs"]
    assert fast["corpus_pairs"]["higher_pairs"] == slow["corpus_pairs"]["higher_pairs"]


def test_an_index_enrolled_in_another_order_puts_the_pair_where_it_was(reddit_posts, tmp_path):
    # audit 16: with more accounts than the percentile reads, the sample was drawn over the enrolment order
    from authorid.workflows.index import build_account_index

    shuffled = reddit_posts.select(np.random.default_rng(4).permutation(len(reddit_posts)))
    model = load_model_style()
    build_account_index(model, "style", reddit_posts, tmp_path / "idx")
    build_account_index(model, "style", shuffled, tmp_path / "idx_shuffled")
    first, second = list(dict.fromkeys(reddit_posts["account_id"]))[:2]
    pairs = [
        explain("style", reddit_posts, first, second, index=tmp_path / i)["corpus_pairs"]
        for i in ("idx", "idx_shuffled")
    ]
    assert pairs[0]["accounts"] < len(set(reddit_posts["account_id"]))  # a sample of the enrolled accounts
    assert (
        pairs[0]["higher_pairs"] == pairs[1]["higher_pairs"]
        and pairs[0]["histogram"] == pairs[1]["histogram"]
    )


def load_model_style():
    from authorid.model import load_model

    return load_model("style")


def test_score_and_cluster_reasons_never_show_an_identifier(tmp_path):
    """`score --explain` and `cluster --explain` read the corpus raw; their reasons come from it cleaned."""
    from authorid.model import load_model
    from authorid.workflows.cluster import cluster
    from authorid.workflows.score import score

    raw = _posts(
        {
            "carol": ["mail me at carol.smith@example.org or see https://example.org/carol", "see you"],
            "dave": ["write to carol.smith@example.org, details at https://example.org/carol", "bye"],
        }
    )
    style = load_model("style")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("account_a,account_b\ncarol,dave\nalice,bob\n")
    scored, _, _ = score(
        style, raw, pairs=pairs, out=tmp_path / "s.csv", calibration=style.calibration, explain=True
    )
    reasons = [row["reason"] for row in scored]
    outputs = cluster(style, raw, out=tmp_path / "c", threshold=0.0, explain=True)
    reasons += [p.reason for c in outputs.report.multi_account for p in c.evidence]
    assert len(reasons) > 2 and all(reasons)
    for identifier in ("carol", "org", "https", "@"):  # pieces of the address and the link
        assert not any(identifier in reason for reason in reasons), identifier


def test_explain_reads_a_pair_as_score_does(reddit_posts, tmp_path):
    """In a pool large enough for a cohort, `score` reads the calibration's cohort fit: so does `explain`, so
    the two never give one pair two verdicts (until stop 34 explain read the cosine fit)."""
    from collections import Counter

    from authorid.model import load_model
    from authorid.workflows.score import score

    style = load_model("style")
    first, second = [account for account, _ in Counter(reddit_posts["account_id"]).most_common(2)]
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"account_a,account_b\n{first},{second}\n")
    scored, _, _ = score(
        style, reddit_posts, pairs=pairs, out=tmp_path / "s.csv", calibration=style.calibration
    )
    evidence = explain(style, reddit_posts, first, second)
    assert evidence["calibration"]["fit"] == "cohort" and evidence["calibration"]["why_cosine"] is None
    assert evidence["similarity"] == pytest.approx(float(scored[0]["cosine"]), abs=1e-5)
    assert evidence["cohort_score"] == pytest.approx(float(scored[0]["cohort_score"]), abs=1e-5)
    assert evidence["probability"] == pytest.approx(float(scored[0]["probability"]), abs=1e-5)
    assert evidence["decision"] == scored[0]["decision"]
    sizes = tuple(evidence["accounts"][a][k] for k in ("posts", "characters") for a in (first, second))
    cosine_fit = float(style.calibration.predict([evidence["similarity"]], sizes=sizes)[0])
    assert abs(cosine_fit - evidence["probability"]) > 1e-3  # the cosine fit would have said otherwise


def test_an_index_of_another_model_or_corpus_is_refused(enron_posts, tmp_path):
    from authorid.workflows.index import build_account_index

    first, second = list(dict.fromkeys(enron_posts["account_id"]))[:2]
    build_account_index(load_model_style(), "style", enron_posts, tmp_path / "idx")
    with pytest.raises(ExplainError, match=r"index .*idx was built with model 'style', not 'stylometric'"):
        explain("stylometric", enron_posts, first, second, index=tmp_path / "idx")
    # no model: the index's (audit 11: the docstring said `model` was ignored, and None crashed)
    by_index = explain(None, enron_posts, first, second, index=tmp_path / "idx")
    assert by_index["similarity"] == pytest.approx(
        explain("style", enron_posts, first, second)["similarity"], abs=1e-5
    )
    without = enron_posts.filter(lambda row: row["account_id"] != second)
    build_account_index(load_model_style(), "style", without, tmp_path / "idx_without")
    with pytest.raises(ExplainError, match=rf"account '{second}' is not enrolled in --index"):
        explain("style", enron_posts, first, second, index=tmp_path / "idx_without")
    fewer = enron_posts.filter(lambda row, i: row["account_id"] != first or i % 2 == 0, with_indices=True)
    build_account_index(load_model_style(), "style", fewer, tmp_path / "idx_fewer")
    with pytest.raises(ExplainError, match=rf"holds another vector for account '{first}'"):
        explain("style", enron_posts, first, second, index=tmp_path / "idx_fewer")


def test_an_index_of_the_raw_corpus_serves_explain_which_cleans_it(enron_posts, tmp_path):
    """`index build` reads a corpus as written and `explain` cleans it (identifiers masked): the index's vectors
    are checked against the posts as read, so cleaning never reads as another corpus."""
    from authorid.workflows.index import build_account_index

    first, second = list(dict.fromkeys(enron_posts["account_id"]))[:2]
    build_account_index(load_model_style(), "style", enron_posts, tmp_path / "idx")
    fast = explain("style", enron_posts, first, second, index=tmp_path / "idx", clean_first=True)
    assert fast["cleaned"]["changed"] > 0  # the check met posts that cleaning changed
    assert fast["decomposition"]["sum"] == pytest.approx(fast["similarity"], abs=1e-6)


def test_a_percentile_is_never_rounded_up_to_above_every_pair():
    """Audit 11: a pair above 99.9966% of the others was said to be "higher than 100.00%" of them."""
    from authorid.evidence.page import percentile_said

    assert percentile_said(99.9966) == "99.99%" and percentile_said(33.0849) == "33.08%"
    assert percentile_said(100.0) == "100%" and percentile_said(None) == "0.00%"


def test_the_same_pair_gets_the_same_evidence_in_either_order_and_from_a_shuffled_corpus(enron_posts):
    # audit 15: a bucket's habit kind followed which account came first (its n-grams tied on uses), the posts
    # shown tied in file order, and the pair counted itself among the corpus' higher pairs or not by rounding
    from authorid.workflows.explain import _corpus_pairs

    a, b = sorted(set(enron_posts["account_id"]))[:2]
    shuffled = enron_posts.select(np.random.default_rng(1).permutation(len(enron_posts)))
    first = explain("style", enron_posts, a, b)
    swapped = explain("style", enron_posts, b, a)
    again = explain("style", shuffled, a, b)
    assert {k: v["features"] for k, v in swapped["habits"].items()} == {
        k: v["features"] for k, v in first["habits"].items()
    }
    assert again["posts"] == first["posts"]
    assert again["corpus_pairs"]["higher_pairs"] == first["corpus_pairs"]["higher_pairs"]
    vectors = np.eye(3, dtype=np.float32)[[0, 0, 1, 2]]  # accounts 0 and 1 are one vector: similarity 1
    assert _corpus_pairs(vectors, 1.0, 0, pair=[0, 1])["higher_pairs"] == 0  # the pair's own entry left out
    assert _corpus_pairs(vectors, 1.0, 0)["higher_pairs"] == 1
