"""`--engine ray` gives what `local` gives: account vectors, IVF links, the clustering kNN graph; a killed Ray
worker is retried. A local Ray cluster (every CPU: 2 in CI) is started once for the module; Ray's start-up and
actors cost seconds, hence `slow`."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from authorid.index import build_index
from authorid.index.knn import knn
from authorid.model import load_model
from authorid.scaleout import engine_session
from authorid.scaleout.embed import embed_accounts_on_ray
from authorid.scaleout.index import build_ivf_on_ray
from authorid.scaleout.knn import knn_on_ray
from authorid.vectors import AccountVectors

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_cluster():
    with engine_session("ray") as connected:  # a local cluster with every CPU of this machine (2 in CI)
        yield connected


@pytest.fixture(scope="module")
def style():
    return load_model("style")


@pytest.fixture(scope="module")
def post_vectors(reddit_posts, style):
    """Real vectors: each of the 3,000 Reddit posts embedded by the default model, as its own 'account'."""
    vectors = style.embed_posts(list(reddit_posts["text"]))
    ids = [f"post-{i}" for i in range(len(vectors))]
    return AccountVectors(account_ids=ids, vectors=vectors, n_posts=np.ones(len(ids), dtype=np.int64))


def test_ray_embeds_the_same_account_vectors_as_local(ray_cluster, reddit_posts, style, tmp_path):
    local = style.embed_accounts(reddit_posts)
    on_ray = embed_accounts_on_ray(ray_cluster, style, reddit_posts, shards=5)
    assert on_ray.account_ids == local.account_ids  # the local order: each account's first post
    assert np.array_equal(on_ray.n_posts, local.n_posts) and np.array_equal(on_ray.n_chars, local.n_chars)
    assert np.abs(on_ray.vectors - local.vectors).max() < 1e-5
    assert on_ray.model == local.model
    # the centre an index built from these vectors fixes (`index build --vectors`)
    np.testing.assert_allclose(on_ray.centre.means, local.centre.means, atol=1e-5)
    # Ray Data reading the Parquet file itself gives the same vectors.
    path = tmp_path / "posts.parquet"
    reddit_posts.to_parquet(str(path))
    from_file = embed_accounts_on_ray(ray_cluster, style, reddit_posts, parquet=path, shards=3)
    assert np.abs(from_file.vectors - local.vectors).max() < 1e-5


def test_ray_centres_a_transformer_model_over_every_shard_together(ray_cluster, reddit_posts):
    """`minilm` centres the accounts embedded together on their mean: the shards pool, the mean is taken
    over all of them here, so the vectors equal embedding locally (a mean per shard would not)."""
    minilm = load_model("minilm", max_seq_length=32)
    posts = reddit_posts.select(range(600))
    local = minilm.embed_accounts(posts)
    assert len(local) >= 20  # the corpus' own mean, not the stored one
    on_ray = embed_accounts_on_ray(ray_cluster, minilm, posts, shards=3)
    assert on_ray.account_ids == local.account_ids
    assert np.abs(on_ray.vectors - local.vectors).max() < 1e-4
    assert on_ray.model == local.model
    np.testing.assert_allclose(on_ray.centre.means, local.centre.means, atol=1e-5)
    assert local.centre.means.shape[1] == 384  # the pooled vectors' space


def test_ray_embeds_the_same_vectors_as_local_with_a_compact_model(
    ray_cluster, reddit_posts, style, tmp_path
):
    """A compact model over `style`: the shards send full-width rows, centred on their sum and projected shard
    by shard here (`_assemble_projected`), equal to embedding locally."""
    from authorid.workflows.compress import compress

    compact = compress(
        style, reddit_posts, out=tmp_path / "compact", dim=32, max_accounts=200, min_posts=2
    ).model
    local = compact.embed_accounts(reddit_posts)
    on_ray = embed_accounts_on_ray(ray_cluster, compact, reddit_posts, shards=4)
    assert on_ray.account_ids == local.account_ids and on_ray.vectors.shape == (len(local), 32)
    assert np.abs(on_ray.vectors - local.vectors).max() < 1e-4
    assert on_ray.model == local.model
    np.testing.assert_allclose(on_ray.centre.means, local.centre.means, atol=1e-5)
    assert local.centre.dim == style.encoder.dim  # the base's full width, before the projection


def test_a_model_fitted_on_the_whole_corpus_is_refused_with_one_line(ray_cluster, enron_posts):
    fitted = load_model("stylometric", fit_corpus=enron_posts)
    with pytest.raises(ValueError, match="stylometric model .* use --engine local"):
        embed_accounts_on_ray(ray_cluster, fitted, enron_posts)


def test_an_ivf_index_built_on_ray_returns_the_same_links(ray_cluster, post_vectors):
    identity = {"name": "style", "kind": "ngram", "dim": post_vectors.dim, "fingerprint": "f"}
    local = build_index(post_vectors, kind="ivf", model_identity=identity)
    on_ray = build_ivf_on_ray(ray_cluster, post_vectors, model_identity=identity, shards=4)
    assert on_ray.params["nlist"] == local.params["nlist"] > 1
    assert on_ray.ids == local.ids
    queries = post_vectors.vectors[::7]
    local_scores, local_ids = local.search(queries, 10)
    ray_scores, ray_ids = on_ray.search(queries, 10)
    assert (ray_ids == local_ids).all()
    assert np.allclose(ray_scores, local_scores, atol=1e-6)


@pytest.mark.parametrize("exact", [True, False])
def test_the_knn_graph_searched_on_ray_is_the_local_one(ray_cluster, post_vectors, exact):
    vectors = post_vectors.subset(post_vectors.account_ids[:1500])  # an HNSW graph of 16k-d vectors is slow
    local_scores, local_positions = knn(vectors, 10, exact=exact)
    ray_scores, ray_positions = knn_on_ray(ray_cluster, vectors, 10, exact=exact)
    assert np.allclose(ray_scores, local_scores, atol=1e-5)
    # Ray's workers run BLAS on one thread, so cosines differ in the last bits and exact ties (posts with the
    # same text) may come out in another order: every neighbour found is as near as the local one.
    matrix = vectors.vectors
    true_scores = np.stack([(matrix * matrix[column]).sum(1) for column in ray_positions.T], axis=1)
    assert np.allclose(true_scores, local_scores, atol=1e-5)
    assert (ray_positions == local_positions).all(axis=1).mean() > 0.97
    assert not (ray_positions == np.arange(len(vectors))[:, None]).any()  # never its own neighbour


def test_a_killed_worker_is_retried_and_the_vectors_are_complete_and_equal(ray_cluster, reddit_posts, style):
    import psutil

    killed: list[int] = []

    def kill_first_embedder() -> None:
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            for process in psutil.process_iter(["pid", "cmdline"]):
                if "ShardEmbedder" in " ".join(process.info["cmdline"] or []):
                    process.kill()
                    killed.append(process.info["pid"])
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_first_embedder)
    killer.start()
    on_ray = embed_accounts_on_ray(ray_cluster, style, reddit_posts, shards=6)
    killer.join()
    assert killed, "no embedding actor was seen to kill"
    local = style.embed_accounts(reddit_posts)
    assert on_ray.account_ids == local.account_ids
    assert np.abs(on_ray.vectors - local.vectors).max() < 1e-5


def test_the_cli_verbs_give_the_same_outputs_on_either_engine(ray_cluster, tmp_path):
    from typer.testing import CliRunner

    from authorid.cli import app

    runner = CliRunner()
    # The raw demo corpus, cleaned as each verb reads it: cleaning drops 5 repeated e-mails, which the rows Ray
    # reads must leave out too (they once did not, and every raw corpus with a drop failed on Ray).
    posts = "enron_demo"
    outputs = {}
    for engine in ("local", "ray"):
        vectors, clusters = tmp_path / f"{engine}.parquet", tmp_path / f"clusters-{engine}"
        result = runner.invoke(app, ["embed", "style", posts, "-o", str(vectors), "--engine", engine])
        assert result.exit_code == 0, result.output
        assert ("on Ray)" in result.output) == (engine == "ray")
        assert "5 of 960 posts dropped" in result.output
        result = runner.invoke(
            app,
            ["cluster", "style", posts, "-o", str(clusters), "--threshold", "0.05", "--engine", engine],
        )
        assert result.exit_code == 0, result.output
        outputs[engine] = (AccountVectors.from_parquet(vectors), (clusters / "assignments.csv").read_text())
    (local, local_clusters), (on_ray, ray_clusters) = outputs["local"], outputs["ray"]
    assert on_ray.account_ids == local.account_ids and np.abs(on_ray.vectors - local.vectors).max() < 1e-5
    assert ray_clusters == local_clusters
    assert len(set(local_clusters.splitlines()[1:])) == 40  # every account assigned once
    result = runner.invoke(
        app,
        [
            "index",
            "build",
            "style",
            posts,
            "-o",
            str(tmp_path / "ix"),
            "--kind",
            "hnsw",
            "--engine",
            "ray",
        ],
    )
    assert result.exit_code == 2
    assert "--engine ray builds ivf or exact indexes" in result.output
