"""How `authorid train` resolves its settings before any data is read: the n-gram encoder's preset applies
whenever the run trains the n-gram encoder, a config file's settings going over it."""

from __future__ import annotations

from authorid.training import resolve_config
from authorid.workflows.train import _settings


def settings(tmp_path, *, config=None, shortcuts=None):
    cfg, checkpoint = _settings(
        "corpus.jsonl",
        out=tmp_path / "model",
        config=config,
        preset=None,
        shortcuts=shortcuts or {},
        overrides=None,
        resume=False,
        overwrite=False,
        progress=False,
    )
    assert checkpoint is None
    return cfg


def test_a_config_file_goes_over_the_ngram_preset_instead_of_replacing_it(tmp_path):
    """Audit 10: a file setting only run.eval_every trained nbc-softmax on 16 accounts a step, episodes not
    disjoint, with no time limit, where `--encoder ngram` alone trains supcon on 256 with a 420 s budget."""
    preset = resolve_config(preset="ngram")
    alone = settings(tmp_path, shortcuts={"model.encoder": "ngram"})
    file = tmp_path / "eval.toml"
    file.write_text("[run]\neval_every = 7\n")
    with_file = settings(tmp_path, config=file, shortcuts={"model.encoder": "ngram"})
    encoder_in_file = tmp_path / "encoder.toml"
    encoder_in_file.write_text('[model]\nencoder = "ngram"\n[run]\neval_every = 7\n')
    from_file_alone = settings(tmp_path, config=encoder_in_file)
    base_style = settings(tmp_path, config=file, shortcuts={"model.base": "style"})
    for cfg in (alone, with_file, from_file_alone, base_style):
        assert cfg.model.encoder == "ngram"
        assert cfg.loss.name == preset.loss.name == "supcon"
        assert cfg.episodes.accounts_per_batch == preset.episodes.accounts_per_batch == 256
        assert cfg.episodes.disjoint and cfg.run.max_seconds == preset.run.max_seconds == 420
    assert alone.run.eval_every == preset.run.eval_every != 7
    assert with_file.run.eval_every == from_file_alone.run.eval_every == base_style.run.eval_every == 7


def test_a_transformer_run_with_a_config_file_takes_no_preset(tmp_path):
    file = tmp_path / "loss.toml"
    file.write_text('[loss]\nname = "supcon"\n')
    cfg = settings(tmp_path, config=file)
    defaults = resolve_config()
    assert cfg.model.encoder == defaults.model.encoder == "transformer"
    assert cfg.loss.name == "supcon"
    assert cfg.episodes.accounts_per_batch == defaults.episodes.accounts_per_batch
