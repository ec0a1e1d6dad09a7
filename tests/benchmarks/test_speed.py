"""The pure parts of scripts/bench_speed.py and scripts/benchlib/machine.py: the results file (sections merge),
the machine record, the int8 and ONNX variants of the encoder on real posts, the scale subsets, the plots.

No benchmark runs here; `scripts` is on pytest's pythonpath (pyproject.toml).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before any Hugging Face import: tests never download

import bench_speed
import numpy as np
import pytest
from benchlib.machine import machine
from samples import raw_records


def _section(tag: str) -> dict:
    return {
        "settings": {"tag": tag},
        "results": {},
        "machine": {},
        "date": "d",
        "command": "c",
        "seconds": 1.0,
    }


# ------------------------------------------------------------------------------------------------ machine


def test_machine_records_the_cpu_cores_memory_load_versions_and_gpu():
    info = machine()
    assert set(info) >= {
        "cpu",
        "cores_usable",
        "cores_total",
        "memory_gib",
        "load_average_at_start",
        "torch_threads",
        "gpu",
        "versions",
    }
    assert set(info["versions"]) >= {"python", "torch", "transformers", "sentence-transformers", "faiss-cpu"}
    import faiss
    import torch

    assert info["versions"]["torch"] == torch.__version__
    assert info["versions"]["faiss-cpu"].split(".")[:2] == faiss.__version__.split(".")[:2]
    for name in ("transformers", "sentence-transformers"):  # not imported here: they take seconds to import
        assert re.fullmatch(r"\d+\.\d+.*", info["versions"][name]), name
    assert info["cores_usable"] == len(os.sched_getaffinity(0)) <= info["cores_total"] == os.cpu_count()
    assert len(info["load_average_at_start"]) == 3
    assert info["gpu"] is None or isinstance(info["gpu"], str)
    assert (info["gpu"] is not None) == torch.cuda.is_available()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.read_text().splitlines()
            if ln.startswith("model name")
        ]
        if names:
            assert info["cpu"] == names[0]
        total_kb = next(
            int(ln.split()[1])
            for ln in Path("/proc/meminfo").read_text().splitlines()
            if ln.startswith("MemTotal:")
        )
        assert info["memory_gib"] == round(total_kb / 2**20, 1)
    json.dumps(info)  # goes into the JSON as it is


def test_no_bench_script_keeps_its_own_machine_function():
    scripts = Path(bench_speed.__file__).parent
    for path in sorted(scripts.glob("bench_*.py")):
        text = path.read_text()
        assert "def machine(" not in text, path.name
    for name in ("bench_embed.py", "bench_losses.py", "bench_train.py", "bench_index.py", "bench_cluster.py"):
        assert "from benchlib.machine import machine" in (scripts / name).read_text(), name


# -------------------------------------------------------------------------------------------- results file


def test_sections_parse_in_order_without_repeats_and_unknown_ones_stop_with_one_line():
    assert bench_speed.parse_sections("scale,embed,scale") == ["scale", "embed"]
    assert bench_speed.parse_sections("all") == ["embed", "train", "scale"]
    with pytest.raises(SystemExit, match="unknown section.*embde.*valid: embed, train, scale"):
        bench_speed.parse_sections("embde")
    with pytest.raises(SystemExit):
        bench_speed.parse_sections(" , ")


def test_merging_a_section_replaces_it_and_keeps_the_others():
    old = {"schema": bench_speed.SCHEMA, "embed": _section("e1"), "train": _section("t1"), "updated": "x"}
    merged = bench_speed.merge_sections(old, {"scale": _section("s1")})
    assert [k for k in merged if k != "schema"] == ["embed", "train", "scale"]
    assert merged["embed"]["settings"]["tag"] == "e1" and merged["scale"]["settings"]["tag"] == "s1"
    again = bench_speed.merge_sections(merged, {"train": _section("t2")})
    assert again["train"]["settings"]["tag"] == "t2"
    assert again["embed"] == old["embed"] and again["scale"] == merged["scale"]
    assert old["train"]["settings"]["tag"] == "t1"  # the input is not modified


def test_a_file_of_another_schema_is_not_mixed_in_and_unknown_sections_are_refused():
    old = {"schema": bench_speed.SCHEMA + 1, "embed": _section("old"), "train": _section("old")}
    merged = bench_speed.merge_sections(old, {"scale": _section("new")})
    assert set(merged) == {"schema", "scale"}
    assert bench_speed.merge_sections({}, {"embed": _section("e")})["schema"] == bench_speed.SCHEMA
    with pytest.raises(ValueError, match="unknown section"):
        bench_speed.merge_sections({}, {"speed": _section("x")})


def test_results_are_written_atomically_and_read_back(tmp_path):
    path = tmp_path / "results" / "speed.json"
    assert bench_speed.load_results(path) == {}
    results = bench_speed.merge_sections({}, {"train": _section("t")})
    bench_speed.write_results(path, results)
    bench_speed.write_results(
        path, bench_speed.merge_sections(bench_speed.load_results(path), {"embed": _section("e")})
    )
    back = bench_speed.load_results(path)
    assert back["train"]["settings"]["tag"] == "t" and back["embed"]["settings"]["tag"] == "e"
    assert "updated" in back
    assert sorted(p.name for p in path.parent.iterdir()) == ["speed.json"]  # no temporary file left behind
    path.write_text("{not json")
    with pytest.raises(SystemExit, match="not valid JSON"):
        bench_speed.load_results(path)


def test_a_section_record_carries_settings_machine_date_and_the_command():
    record = bench_speed.section_record(
        {"n": 1}, {"x": 2}, started={"cpu": "c"}, date="2025-01-01", seconds=1.26
    )
    assert record == {
        "settings": {"n": 1},
        "results": {"x": 2},
        "machine": {"cpu": "c"},
        "date": "2025-01-01",
        "command": bench_speed.command_line(),
        "seconds": 1.3,
    }
    assert "pytest" in record["command"] or "python" in record["command"]


# ------------------------------------------------------------------------------------ encoder variants


@pytest.fixture(scope="module")
def minilm_and_posts():
    from authorid.encoders import build_style_encoder

    texts = [r["text"] for r in raw_records("reddit", 16)]
    return build_style_encoder("minilm", max_seq_length=32, device="cpu"), texts


def test_the_int8_copy_embeds_real_posts_close_to_fp32_and_leaves_the_model_alone(minilm_and_posts):
    import torch

    from authorid.encoders import embed_texts

    model, texts = minilm_and_posts
    quantized = bench_speed.quantize_int8(model)
    fp32 = embed_texts(model, texts, progress=False)
    int8 = embed_texts(quantized, texts, progress=False)
    summary = bench_speed.cosine_summary(int8, fp32)
    # Measured on these 16 posts: min 0.88, median 0.97 (per-tensor scales would give a median of ~0.93).
    assert summary["min"] > 0.85 and summary["median"] > 0.95
    assert summary["min"] < 0.9999  # it did quantise
    np.testing.assert_allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    query = model[0].auto_model.encoder.layer[0].attention.self.query
    assert type(query) is torch.nn.Linear and query.weight.dtype == torch.float32
    np.testing.assert_allclose(embed_texts(model, texts, progress=False), fp32)  # fp32 model untouched


def test_the_onnx_export_embeds_real_posts_as_the_torch_model_does(minilm_and_posts, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from authorid.encoders import embed_texts

    model, texts = minilm_and_posts
    encoder = bench_speed.OnnxEncoder(model, tmp_path)
    vectors = encoder.embed_posts(texts, batch_size=5)  # batches of mixed lengths, returned in input order
    assert vectors.shape == (len(texts), 384)
    assert bench_speed.cosine_summary(vectors, embed_texts(model, texts, progress=False))["min"] > 0.9999


def test_onnx_status_says_why_when_it_cannot_run(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_onnxruntime(name, *args, **kwargs):
        if name == "onnxruntime":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    assert bench_speed.onnx_status().startswith("not measured: onnxruntime is not installed")


# ------------------------------------------------------------------------------------------ scale, plots


def test_scale_subsets_are_nested_and_never_hold_a_query():
    queries, subsets = bench_speed.nested_subsets(1000, [100, 300, 2000], 50, seed=0)
    assert len(queries) == 50 and [len(s) for s in subsets] == [100, 300, 950]
    assert set(subsets[0]) <= set(subsets[1]) <= set(subsets[2])
    assert not set(queries) & set(subsets[2])
    again, _ = bench_speed.nested_subsets(1000, [100], 50, seed=0)
    np.testing.assert_array_equal(queries, again)


def test_train_overrides_time_training_only():
    from authorid.training import resolve_config

    cfg = resolve_config(preset="quick", overrides=bench_speed.train_overrides(12))
    assert cfg.run.max_steps == 12 and cfg.data.val_accounts == 0
    assert not cfg.run.eval_at_start and not cfg.run.calibrate and cfg.run.checkpoint_every > 12


def test_plots_are_drawn_for_the_sections_present(tmp_path):
    def latency(ms: float) -> dict:
        return {"median_query_ms": ms, "recall@10": 1.0}

    scale = {
        "sizes": [
            {
                "n": n,
                "linking": {"exact": latency(n / 1e4), "ivf": latency(0.05)},
                "clustering": {"n": n, "wall_s": n / 1e3, "peak_rss_mb": 900.0, "rss_growth_mb": n / 100},
            }
            for n in (1000, 10_000)
        ]
    }
    results = bench_speed.merge_sections({}, {"scale": {**_section("s"), "results": scale}})
    written = bench_speed.write_plots(results, tmp_path)
    assert [p.name for p in written] == ["speed_scale.png"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
