"""What a hashed bucket means for two accounts: the n-grams of their own texts that land in it, and the habit
each n-gram is.

A model stores buckets, not n-grams (`authorid.encoders.hashing`). To show evidence, the n-grams of the two
accounts' texts are listed again with the model's own analyzers and hashed with the same MurmurHash3, so each
bucket reads as the n-grams these accounts actually wrote. Each n-gram gets a habit kind a person can check
(punctuation, casing, spacing, an emoticon, a function word, a word choice, a character sequence), and n-grams
touching a masked identifier (`<URL>`, `<EMAIL>`, `<MENTION>`, `<USER>`, placed by the cleaning) are flagged
as possible identity leaks rather than style.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.utils import murmurhash3_32

from authorid.data.clean_text import EMAIL_TOKEN, MENTION_TOKEN, URL_TOKEN, USER_TOKEN
from authorid.encoders.hashing import vectorizers

#: Corpus placeholders for identifiers masked before authorid saw the text (PAN's Enron e-mails: `<NAME/>`).
CORPUS_MASKS = ("<NAME/>",)
MASKS = (URL_TOKEN, EMAIL_TOKEN, MENTION_TOKEN, USER_TOKEN, *CORPUS_MASKS)
MASK_WORDS = {token.strip("<>/") for token in MASKS}
#: Any mask token in a text: taken out to tell which n-grams the writer's own characters make.
MASK_TOKEN = re.compile("|".join(re.escape(token) for token in MASKS))
EMOTICON = re.compile(r"[:;=xX8][-']?[()DPpOo3/\\|\]\[]|<3|\^\^|[\u2600-\u27bf\U0001F000-\U0001FAFF]")
KINDS = {
    "leak": "masked identifier (possible leak, not style)",
    "emoticon": "emoticon or emoji",
    "punctuation": "punctuation habit",
    "spacing": "spacing habit",
    "casing": "casing habit",
    "function": "function word",
    "word": "word choice or spelling",
    "chars": "character sequence (spelling, morphology)",
}


@dataclass
class Term:
    """One n-gram of the two accounts: its bucket, block (char / word), habit kind and uses per account."""

    text: str
    block: str
    bucket: int
    kind: str
    uses: list[int] = field(default_factory=lambda: [0, 0])


def bucket_of(ngram: str, buckets: int) -> int:
    """The bucket scikit-learn's HashingVectorizer gives `ngram` (MurmurHash3, seed 0, absolute value)."""
    return abs(murmurhash3_32(ngram, seed=0)) % buckets


def account_terms(params: dict, texts_a: list[str], texts_b: list[str]) -> dict[int, list[Term]]:
    """Global bucket index -> the n-grams of either account that land in it (with their uses per account)."""
    terms: dict[tuple[str, str], Term] = {}
    offset = 0
    for vectorizer, block, buckets in zip(
        vectorizers(params), ("char", "word"), (params["char_buckets"], params["word_buckets"]), strict=False
    ):
        analyze = vectorizer.build_analyzer()
        # the n-grams the texts still make with every mask token taken out: one made only of a mask's pieces
        # and what borders it ('<', '- <' before <EMAIL>) is the cleaning's, not the writer's habit
        own = {gram for text in (*texts_a, *texts_b) for gram in analyze(MASK_TOKEN.sub(" ", text))}
        for side, texts in enumerate((texts_a, texts_b)):
            counts = Counter(gram for text in texts for gram in analyze(text))
            for gram, n in counts.items():
                key = (block, gram)
                if key not in terms:
                    kind = habit_kind(gram, block) if gram in own else "leak"
                    terms[key] = Term(gram, block, offset + bucket_of(gram, buckets), kind)
                terms[key].uses[side] += n
        offset += buckets
    by_bucket: dict[int, list[Term]] = {}
    for term in terms.values():
        by_bucket.setdefault(term.bucket, []).append(term)
    return by_bucket


def habit_kind(gram: str, block: str) -> str:
    """The habit an n-gram shows (a key of KINDS)."""
    words = gram.split(" ") if block == "word" else [gram]
    if block == "word" and MASK_WORDS & set(words) or block == "char" and _touches_mask(gram):
        return "leak"
    if EMOTICON.search(gram):
        return "emoticon"
    if not any(c.isalnum() for c in gram):
        return "spacing" if gram.strip() == "" or "  " in gram else "punctuation"
    if block == "char" and re.search(r"\s[,.!?;:]|[,.!?;:]\S", gram):
        return "spacing"
    if any(c.isupper() for c in gram):
        return "casing"
    if block == "word" and all(w.lower() in ENGLISH_STOP_WORDS or not w.isalnum() for w in words):
        return "function"
    return "word" if block == "word" else "chars"


def _touches_mask(gram: str) -> bool:
    """True when a character n-gram is a piece of a mask token (`URL>`, `<EMA`, `. <N`, `/>,`), not of the
    writer's text: it lies inside a mask, holds one, ends with a mask's first two or more characters or starts
    with its last two or more."""
    core = gram.strip()
    if len(core) < 2:
        return False
    for mask in MASKS:
        if core in mask and any(c.isupper() for c in core) or mask in core:
            return True
        edges = range(2, min(len(core), len(mask)) + 1)
        if any(core.endswith(mask[:n]) or core.startswith(mask[-n:]) for n in edges) and not core.isalnum():
            return True
    return False


def highlight_pattern(term: Term) -> re.Pattern:
    """A regex finding `term` in a post: the character n-gram itself, or the words with any spacing between."""
    if term.block == "char":
        return re.compile(re.escape(term.text))
    parts = [re.escape(w) for w in term.text.split(" ")]
    word = r"(?<!\w){}(?!\w)"
    return re.compile(r"\s*".join(word.format(p) if p[-1:].isalnum() else p for p in parts))
