"""The packaged `style` model: loads offline by name, embeds a known text to a pinned vector, files match the
card's checksums, no user name ships, `--base style` starts from its weights, damage is named."""

from __future__ import annotations

import hashlib
import re
import shutil

import numpy as np
import pytest
import torch

from authorid.account_hashes import TRAINING_ACCOUNTS_FILE, account_hashes
from authorid.encoders import NgramEncoder
from authorid.io import read_json
from authorid.model import ModelError, load_model
from authorid.pretrained import FOLDER, PackagedModelError, packaged_model_path

STYLE = FOLDER / "style"
KNOWN_TEXT = "Honestly I'd just email the professor, they're usually pretty chill about extensions lol"
#: The first values of KNOWN_TEXT's vector (one text alone: centred on the stored training mean). Re-pin them
#: with the printout of this test's failure when the model is retrained on purpose.
PINNED = [0.02647, -0.02288, -0.04362, 0.01361, 0.00906, 0.0191]


@pytest.fixture(scope="module")
def style():
    return load_model("style")


def test_style_loads_by_name_and_embeds_a_known_text_to_its_pinned_vector(style):
    assert style.kind == "ngram" and style.name == "style" and style.calibration is not None
    vector = style.embed_groups([KNOWN_TEXT], np.zeros(1, dtype=int), 1)[0]
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(vector[: len(PINNED)], PINNED, atol=2e-4, err_msg=f"now {vector[:6].round(5)}")


def test_the_embedding_functions_take_the_model_load_model_gives(style):
    # audit 6: authorid.embed_accounts took a StyleModel, authorid.embed_texts raised AttributeError on one
    import authorid

    texts = ["I second this", "So good to know! Thank you : )"]
    np.testing.assert_array_equal(
        authorid.embed_texts(style, texts, progress=False), style.embed_posts(texts)
    )


def test_every_file_matches_the_checksum_in_the_card():
    card = (STYLE / "README.md").read_text()
    listed = dict(re.findall(r"\| `([^`]+)` \| [\d,]+ \| `([0-9a-f]{64})` \|", card))
    shipped = {p.name for p in STYLE.iterdir() if p.name not in ("README.md", "authorid-manifest.json")}
    assert set(listed) == shipped and "ngram.safetensors" in shipped
    for name, digest in listed.items():
        assert hashlib.sha256((STYLE / name).read_bytes()).hexdigest() == digest, name
    assert sum(p.stat().st_size for p in STYLE.iterdir()) <= 25 * 2**20  # the bound for package data


def test_the_card_has_its_sections():
    card = (STYLE / "README.md").read_text()
    for section in (
        "## Terms",
        "## Where it is weak",
        "## Measured quality",
        "## Retrain or adapt",
        "## Risks",
    ):
        assert section in card


def test_no_local_path_ships():
    """No shipped JSON names a folder of the machine the model was trained on (the model is called by name)."""

    def strings(value):
        if isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)
        elif isinstance(value, str):
            yield value

    for path in STYLE.glob("*.json"):
        if path.name == TRAINING_ACCOUNTS_FILE:
            continue
        local = [s for s in strings(read_json(path)) if s.startswith(("/", "~")) or "runs/" in s]
        assert not local, (path.name, local)
    calibration = read_json(STYLE / "calibration.json")
    assert calibration["info"]["model"]["name"] == calibration["cohort"]["info"]["model"]["name"] == "style"


def test_the_shipped_calibration_is_this_model_s_with_a_cohort_fit_for_pools(style):
    """Both fits name this model's fingerprint; pools of 50+ accounts read the cohort fit, smaller ones the
    cosine fit. The training export fitted both on every post of the run's 400 validation persons (>= 20 posts
    each, cut in halves), so the calibrated sizes reach past the benchmark's 8-post halves."""
    calibration = style.calibration
    fingerprint = style.identity()["fingerprint"]
    assert (
        calibration.info["model"]["fingerprint"]
        == calibration.cohort.info["model"]["fingerprint"]
        == fingerprint
    )
    assert calibration.cohort.info["pool"] == calibration.info["accounts"] == 800
    assert calibration.info["persons"] == 400 and calibration.method == "platt-sizes"
    assert calibration.info["account_posts"][0] == 1 and calibration.info["account_posts"][1] >= 50
    assert calibration.for_pool(50) is calibration.cohort and calibration.for_pool(49) is calibration


def test_no_user_name_ships_only_salted_hashes(reddit_posts):
    """Reddit account names of the sample (most in the training pool) appear in no shipped file; the training
    accounts are there only as salted hashes, which recognise them."""
    ids = list(reddit_posts["account_id"])
    names = sorted({a for a in ids if len(a) >= 6 and not re.fullmatch(r"[0-9a-f]+", a)})
    assert len(names) > 50
    blobs = [p.read_bytes() for p in STYLE.iterdir()]
    for name in names:
        assert not any(name.encode() in blob for blob in blobs), name
    record = read_json(STYLE / TRAINING_ACCOUNTS_FILE)
    known = set(record["hashes"])
    assert record["accounts"] == len(known) > 20_000
    # The sample holds whole accounts (sorted by author); those with 5-19 posts trained the model (>= 4 posts,
    # fewer than the benchmark test accounts' 20), give or take a post the cleaning drops.
    trained = sorted({a for a in names if 5 <= ids.count(a) < 20})
    assert len(trained) > 30
    recognised = sum(h in known for h in account_hashes(trained, record["salt"]))
    assert recognised >= 0.9 * len(trained)
    untrained = sorted({a for a in names if ids.count(a) == 1})
    assert sum(h in known for h in account_hashes(untrained, record["salt"])) == 0


def test_base_style_starts_from_its_weights(tmp_path):
    from authorid.schema import posts_from_records
    from authorid.training.arguments import resolve_config
    from authorid.training.trainer import build_ngram_encoder

    cfg = resolve_config(preset="ngram", overrides={"model.base": "style"})
    posts = posts_from_records(
        [{"post_id": str(i), "account_id": f"a{i % 3}", "text": f"post number {i}"} for i in range(12)]
    )
    encoder, counts = build_ngram_encoder(cfg, posts)
    packaged = NgramEncoder.load(packaged_model_path("style"))
    assert torch.equal(encoder.table.weight, packaged.table.weight)
    assert torch.equal(encoder.sketch_weight, packaged.sketch_weight)
    assert counts.shape == (12, packaged.n_features)


def test_a_damaged_packaged_file_is_named_with_how_to_reinstall(tmp_path, monkeypatch):
    import authorid.pretrained as pretrained

    copy = tmp_path / "pretrained"
    shutil.copytree(STYLE, copy / "style")
    weights = copy / "style" / "ngram.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    monkeypatch.setattr(pretrained, "FOLDER", copy)
    with pytest.raises(PackagedModelError, match=r"ngram\.safetensors.*reinstall authorid"):
        load_model("style")
    shutil.rmtree(copy / "style")
    with pytest.raises(PackagedModelError, match=r"style.*missing.*reinstall authorid"):
        load_model("style")


def test_an_unknown_model_name_lists_the_known_ones():
    with pytest.raises(
        ModelError,
        match=r"'styl': not a known name \('style', 'minilm', 'minilm:raw', 'stylometric\[:DIM\]'\)",
    ):
        load_model("styl")


def test_evaluate_leaves_out_the_accounts_style_trained_on(style, reddit_posts):
    from authorid.workflows.evaluate import evaluate

    run = evaluate(style, reddit_posts, protocol="sybil", min_posts=10)
    kept = evaluate(style, reddit_posts, protocol="sybil", min_posts=10, include_training_accounts=True)
    assert run["data"]["excluded_training_accounts"] > 0 and kept["data"]["excluded_training_accounts"] == 0
    assert run["data"]["accounts"] + run["data"]["excluded_training_accounts"] == kept["data"]["accounts"]


def test_calibrate_leaves_out_the_accounts_style_trained_on(style, reddit_posts, tmp_path, caplog):
    from authorid.workflows.calibrate import calibrate
    from authorid.workflows.common import without_training_accounts

    _, excluded = without_training_accounts(style, reddit_posts)
    assert excluded > 0
    calibrator, _ = calibrate(style, reddit_posts, out=tmp_path / "cal.json")
    assert calibrator.info["excluded_training_accounts"] == excluded
    assert f"left out {excluded} of " in caplog.text
    kept, _ = calibrate(style, reddit_posts, out=tmp_path / "all.json", include_training_accounts=True)
    assert kept.info["excluded_training_accounts"] == 0
    assert kept.info["all_negative_pairs"]["accounts"] > calibrator.info["all_negative_pairs"]["accounts"]


def test_an_index_centres_accounts_linked_later_like_the_enrolled_ones(style, enron_posts, tmp_path):
    """Vectors of an n-gram model are centred on the accounts embedded together: the index fixes its enrolled
    accounts' mean, so an account linked alone later gets exactly the vector it was enrolled with."""
    from authorid.workflows.index import build_account_index, open_index

    build_account_index(style, "style", enron_posts, tmp_path / "idx")
    index, model = open_index(tmp_path / "idx")
    assert model.encoder.params["centre"] == "fixed"
    one = enron_posts.filter(lambda row: row["account_id"] == enron_posts[0]["account_id"])
    alone = model.embed_accounts(one)
    scores, ids = index.search(alone.vectors, k=1)
    assert ids[0][0] == alone.account_ids[0] and scores[0][0] == pytest.approx(1.0, abs=1e-5)


def test_an_index_built_from_vectors_links_as_one_built_from_the_corpus(style, enron_posts, tmp_path, caplog):
    """`embed` keeps the centre it centred the accounts on in the vectors file, and `index build --vectors`
    fixes the model on it: accounts linked later are centred on the enrolled ones either way (before, the index
    kept the unfixed model, which centred queries on their own corpus: 41 against 39 right on 50 queries)."""
    from authorid.vectors import AccountVectors
    from authorid.workflows.index import build_account_index, open_index

    ids = list(dict.fromkeys(enron_posts["account_id"]))
    enrolled = enron_posts.filter(lambda row: row["account_id"] in set(ids[:-3]))
    queries = enron_posts.filter(
        lambda row: row["account_id"] in set(ids[-3:])
    )  # fewer than 20: no own centre
    embedded = style.embed_accounts(enrolled)
    assert embedded.centre is not None and embedded.centre.dim == style.encoder.dim
    loaded = AccountVectors.from_parquet(embedded.to_parquet(tmp_path / "v.parquet"))
    np.testing.assert_array_equal(loaded.centre.means, embedded.centre.means)
    np.testing.assert_array_equal(loaded.centre.positions, embedded.centre.positions)
    build_account_index(style, "style", enrolled, tmp_path / "from_corpus")
    build_account_index(style, "style", enrolled, tmp_path / "from_vectors", vectors=loaded)
    (by_corpus, corpus_model), (by_vectors, vectors_model) = (
        open_index(tmp_path / name) for name in ("from_corpus", "from_vectors")
    )
    assert vectors_model.encoder.params["centre"] == "fixed"
    assert vectors_model.fixed_from == corpus_model.fixed_from == style.fingerprint()
    asked = [model.embed_accounts(queries) for model in (corpus_model, vectors_model)]
    np.testing.assert_allclose(asked[0].vectors, asked[1].vectors, atol=1e-5)
    found = [index.search(a.vectors, k=5) for index, a in zip((by_corpus, by_vectors), asked, strict=True)]
    np.testing.assert_allclose(found[0][0], found[1][0], atol=1e-5)
    np.testing.assert_array_equal(found[0][1], found[1][1])
    unfixed = style.embed_accounts(queries).vectors  # what the index built from vectors used to link with
    assert np.abs(unfixed - asked[0].vectors).max() > 1e-3
    loaded.centre = None  # a file written before the centre was kept: built as before, and said
    build_account_index(style, "style", enrolled, tmp_path / "old_file", vectors=loaded)
    assert "the vectors file keeps no centre" in caplog.text
    assert open_index(tmp_path / "old_file")[1].encoder.params["centre"] == "corpus"


def test_a_damaged_minilm_centre_is_named_with_how_to_reinstall(tmp_path, monkeypatch):
    import authorid.model as model_module
    from authorid.encoders.centre import WEIGHTS_FILE
    from authorid.pretrained import MINILM_CENTRE_FOLDER

    copy = tmp_path / "minilm_centre"
    shutil.copytree(MINILM_CENTRE_FOLDER, copy)
    (copy / WEIGHTS_FILE).write_bytes((copy / WEIGHTS_FILE).read_bytes()[:100])
    monkeypatch.setattr(model_module, "MINILM_CENTRE_FOLDER", copy)
    with pytest.raises(
        PackagedModelError, match=r"model 'minilm': .*centre\.safetensors.*reinstall authorid"
    ):
        load_model("minilm")
    assert load_model("minilm:raw").centre is None  # the raw encoder needs no centre


def test_cluster_warns_when_the_corpus_holds_the_models_training_accounts(style, reddit_posts, tmp_path):
    """P is calibrated for accounts the model never saw: on `style`'s own Reddit accounts a compact or fused
    model's clusters promised 0.90 precision and delivered 0.36-0.54, so the user is told how many there are."""
    from typer.testing import CliRunner

    from authorid.cli import app
    from authorid.workflows.common import training_accounts_in

    known, accounts = training_accounts_in(style, reddit_posts)
    assert 0 < known < accounts
    corpus = tmp_path / "posts.parquet"
    reddit_posts.to_parquet(str(corpus))
    result = CliRunner().invoke(app, ["cluster", "style", str(corpus), "-o", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"warning: {known:,} of {accounts:,} accounts are ones style trained or validated on" in said
    # audit 5: the same accounts as a vectors file were clustered without a word
    vectors = style.embed_accounts(reddit_posts).to_parquet(tmp_path / "v.parquet")
    result = CliRunner().invoke(
        app, ["cluster", "style", "--vectors", str(vectors), "-o", str(tmp_path / "cv")]
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"warning: {known:,} of {accounts:,} accounts are ones style trained or validated on" in said
