"""Per-text cleaning functions on real posts from the shared corpora (exact expected outputs)."""

from __future__ import annotations

import gzip
import itertools
import json

import pytest
from samples import corpus_path, raw_records

from authorid.data import clean_text as ct

# Line number in reddit_college.jsonl.gz -> post id, for posts showing one cleaning problem each.
REDDIT_LINES = {
    58: "fg5fmp5",  # markdown link
    87: "ganwzs3",  # /u/name and a markdown link
    114: "gls7lxj",  # bare url at the end
    192: "hhf2sqt",  # &#x200B; paragraph
    943: "gw0milu",  # > quote without a space
    1005: "faj7ffu",  # multi-line > quote with trailing spaces
    1288: "frp122j",  # @OP
    1571: "ef5kdis",  # u/name
    4396: "ef1dkhe",  # a >!spoiler!< (not a quote)
    4608: "hlp7v85",  # www. url without scheme
    6047: "hofiw9v",  # e-mail address
    6271: "ebh8udj",  # >\t quote
    10674: "hrvcfqx",  # \r and blank lines
    35542: "gkyiibn",  # url in square brackets
    65811: "ggc4cnq",  # markdown link whose url holds parentheses
    144148: "t3_qh608s",  # &amp;
    199352: "fwk46ri",  # Devanagari in a composed form NFC decomposes (U+095B is a composition exclusion)
    218033: "gvbka3g",  # doubly escaped &amp;quot; after a url
}


@pytest.fixture(scope="module")
def reddit() -> dict[str, str]:
    """Texts of the posts in REDDIT_LINES by post id (reads lines, parses only the wanted ones)."""
    with gzip.open(corpus_path("reddit"), "rt", encoding="utf-8") as fh:
        lines = itertools.islice(fh, max(REDDIT_LINES) + 1)
        rows = {i: json.loads(line) for i, line in enumerate(lines) if i in REDDIT_LINES}
    assert {i: r["id"] for i, r in rows.items()} == REDDIT_LINES
    return {r["id"]: r["text"] for r in rows.values()}


def test_unescape_html_replaces_entities(reddit):
    text = reddit["t3_qh608s"]
    assert text.count("&amp;") == 4
    assert ct.unescape_html(text) == text.replace("&amp;", "&")
    assert "worth & merit to my grades" in ct.unescape_html(text)


def test_unescape_html_undoes_double_escaping(reddit):
    assert reddit["gvbka3g"] == (
        "http://phdcomics.com/comics.php?f=2028&gt;Feelings&lt;/a&gt;&amp;quot; it was true in 2018 too XD"
    )
    assert ct.unescape_html(reddit["gvbka3g"]) == (
        'http://phdcomics.com/comics.php?f=2028>Feelings</a>" it was true in 2018 too XD'
    )
    assert ct.unescape_html("&amp;amp;#x200B;") == "\u200b"


def test_unescape_html_needs_the_semicolon_and_a_known_name():
    assert ct.unescape_html("?a=1&copy=2 AT&T &foo; &#39;") == "?a=1&copy=2 AT&T &foo; '"


def test_normalize_unicode_is_nfc(reddit):
    text = reddit["fwk46ri"]
    assert "\u095b" in text
    assert ct.normalize_unicode(text) == text.replace("\u095b", "\u091c\u093c")
    assert ct.normalize_unicode("cafe\u0301") == "caf\u00e9"


def test_strip_quotes_removes_quoted_lines(reddit):
    assert ct.strip_quotes(reddit["gw0milu"]) == "\nliterally has to be MIT"
    assert ct.strip_quotes(reddit["ebh8udj"]) == (
        "\nI actually work with and tutor ESL students; a TEOFL is pretty hit and miss for their overall "
        "communication skills."
    )
    stripped = ct.strip_quotes(reddit["faj7ffu"])
    assert reddit["faj7ffu"].startswith("> I’m perfectly content")
    assert stripped.startswith("\nIt sounds like you see a job in your field")
    assert ">" not in stripped


def test_strip_quotes_keeps_spoilers(reddit):
    assert ct.strip_quotes(reddit["ef1dkhe"]) == ">!It will not.!<"


def test_strip_quotes_handles_escaped_quote_marks():
    assert ct.strip_quotes("&gt; you said\nI disagree") == "I disagree"


def test_strip_quotes_removes_nested_bbcode_blocks_with_attributes():
    text = '[QUOTE=bob]outer [quote name="al" post=3]inner[/quote] still bob[/QUOTE]I agree.'
    assert ct.strip_quotes(text) == "\nI agree."
    assert ct.strip_quotes("[quote]a[/quote] mid [quote=x]b[/quote] end") == "\n mid \n end"
    # Reddit's escaped brackets are no quote tags; an unclosed tag is left as written.
    assert ct.strip_quotes('they analyze "\\[quote\\]" here') == 'they analyze "\\[quote\\]" here'
    assert ct.strip_quotes("[quote]never closed") == "[quote]never closed"


def test_mask_urls_markdown_link_keeps_the_text(reddit):
    assert "[drawing inspiration from Game Freak](<URL>) more than" in ct.mask_urls(reddit["fg5fmp5"])
    assert ct.mask_urls(reddit["ggc4cnq"]) == "[No](<URL>)"  # the url's own "(education)" is consumed


def test_mask_urls_bare_urls(reddit):
    assert ct.mask_urls(reddit["gls7lxj"]) == "It is! Named after my cat: <URL>"
    assert ct.mask_urls(reddit["hlp7v85"]) == "<URL>"
    assert ct.mask_urls(reddit["gkyiibn"]) == (
        "Try reaching out to the Center for Biomedical Ethics at the University of Minnesota [<URL>]."
    )
    assert ct.mask_urls("(see https://x.org/a_(b).)") == "(see <URL>.)"


def test_mask_urls_stops_at_angle_brackets_and_leaves_tags_alone(reddit):
    unescaped = ct.unescape_html(reddit["gvbka3g"])
    assert ct.mask_urls(unescaped) == '<URL>>Feelings</a>" it was true in 2018 too XD'


def test_mask_emails(reddit):
    assert ct.mask_emails(reddit["hofiw9v"]) == reddit["hofiw9v"].replace(
        "admissions@austin.utexas.edu", "<EMAIL>"
    )
    assert ct.mask_emails(reddit["hofiw9v"]).endswith("you can email them at <EMAIL>")


def test_enron_name_tags_survive_and_addresses_are_masked():
    text = raw_records("enron", 1)[0]["text"]
    assert "<NAME/> Koehler (713/853-3448; anne_koehler@enron.com)" in text
    cleaned = text
    for step in (ct.unescape_html, ct.mask_urls, ct.mask_emails, ct.mask_mentions, ct.normalize_whitespace):
        cleaned = step(cleaned)
    assert "<NAME/> Koehler (713/853-3448; <EMAIL>)" in cleaned
    assert cleaned.count("<NAME/>") == text.count("<NAME/>") == 2


def test_mask_mentions_at_and_reddit_users(reddit):
    assert ct.mask_mentions(reddit["frp122j"]).startswith("Yes <MENTION> if you decide")
    assert ct.mask_mentions(reddit["ef5kdis"]) == (
        "Yo cysts, YOU KNOW WHO'S BOSS??\n\n... <USER>. she's boss.\n\nBUT AFTER HER?\n\nME.\n\nI'M BOSS."
    )
    assert ct.mask_mentions(reddit["ganwzs3"]).startswith("Where's your or <USER>'s bottleneck?")


def test_mask_mentions_spares_addresses_and_non_names():
    text = "a@b.com, not a @gmail.com? 3.9 u/w GPA, class @2pm, @.@ and w/o"
    assert ct.mask_mentions(text) == text


def test_normalize_whitespace_keeps_paragraphs(reddit):
    assert ct.normalize_whitespace(reddit["hrvcfqx"]) == (
        'when clicking the fourth choice it then says, "Please use the space below to provide details about '
        'the change in progression through secondary/high school that you indicated above."\n\n'
        'since is not mentioned, which is weird and only focuses on the "through"'
    )
    zwsp_paragraph = ct.unescape_html(reddit["hhf2sqt"])
    assert "\n\n\u200b\n\n" in zwsp_paragraph
    assert "involved.\n\nAlso, this problem" in ct.normalize_whitespace(zwsp_paragraph)
    assert ct.normalize_whitespace(" a\t\u00a0 b \n\n\n\n c ") == "a b\n\nc"


def test_is_retweet():
    assert ct.is_retweet("  RT @bob: hello")
    assert not ct.is_retweet("RT this please @bob")
