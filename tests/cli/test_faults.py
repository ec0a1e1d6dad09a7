"""The new-user audit's bad inputs and faults (../shared/reviews/new-user-audit.md, section b), run again through
the CLI: every one ends in one clear line naming the file or the option (never a traceback), a counted warning,
or the right result; no user file, model or index is lost.

Each case is a row of FAULTS: (audit id, the command, the exit code, what the output must say). The inputs are
made from the bundled enron_demo corpus (real e-mails) and a stylometric model, so the suite needs no download
and no shared corpus.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from authorid.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> Path:
    """A folder of good and bad inputs, an index, and a model folder with damaged copies."""
    from authorid.data.readers import read_posts
    from authorid.encoders import NgramEncoder

    folder = tmp_path_factory.mktemp("bad")
    posts, _ = read_posts("enron_demo")
    rows = [{"id": r["post_id"], "author": r["account_id"], "text": r["text"]} for r in posts]
    good = rows[:240]  # 10 authors x 24 e-mails
    (folder / "good.jsonl").write_text("".join(json.dumps(r) + "\n" for r in good))
    lines = [json.dumps(r) for r in good[:20]]
    (folder / "malformed.jsonl").write_text(
        "\n".join(lines[:4] + ['{"author": "x", "text": "broken'] + lines[4:])
    )
    payload = "".join(json.dumps(r) + "\n" for r in rows).encode()
    (folder / "full.jsonl.gz").write_bytes(gzip.compress(payload))
    (folder / "trunc.jsonl.gz").write_bytes(gzip.compress(payload)[:20_000])
    (folder / "notgz.jsonl.gz").write_bytes(b"no gzip here\n")
    (folder / "empty.jsonl").write_text("")
    (folder / "header_only.csv").write_text("author,text\n")
    (folder / "no_text.jsonl").write_text(json.dumps({"author": "a", "id": "1"}) + "\n")
    (folder / "nan_text.jsonl").write_text('{"author": "a", "text": NaN}\n{"author": "b", "text": 12345}\n')
    (folder / "bad_array.json").write_text('[{"author": "a", "text": "t"}, {"author": ')
    (folder / "corrupt.parquet").write_bytes(b"PAR1 this is not parquet")
    (folder / "ragged.csv").write_text(
        'author,text,id\nalice,"hello there",1\nbob,"I forgot to close the quote,2\ncarol,"fine text",3\n'
        'dave,"last one",4\n'
    )
    (folder / "first_bad.jsonl").write_text('{"author": "x", "text": "broken\n{"author": "y", "text": 1\n')
    (folder / "nul.csv").write_text("author,text\nalice,hel\x00lo\n")
    (folder / "single_account.jsonl").write_text(
        "".join(json.dumps({**r, "author": "solo"}) + "\n" for r in good[:24])
    )
    (folder / "mine.csv").write_text("precious\n")
    (folder / "mine.parquet").write_text("precious\n")
    (folder / "afile").write_text("a file in the way\n")
    pairs = [("account_a", "account_b")] + [(good[0]["author"], good[30]["author"])]
    (folder / "pairs.csv").write_text("".join(",".join(p) + "\n" for p in pairs))
    pq.write_table(
        pa.table(
            {"post_id": ["p1"], "account_id": ["a"], "vector": pa.array([[1.0, 0.0]], pa.list_(pa.float32()))}
        ),
        folder / "post_vectors.parquet",
    )
    (folder / "pairs_open.csv").write_text(f'account_a,account_b\n{",".join(pairs[1])}\n"unclosed,x\n')
    (folder / "pairs_short.csv").write_text(f"account_a,account_b\n{','.join(pairs[1])}\nonly_one\n")
    (folder / "pairs_unknown.csv").write_text("account_a,account_b\nnobody," + good[0]["author"] + "\n")
    (folder / "pairs_quote.csv").write_text(
        f'account_a,account_b\n{good[0]["author"]},"{good[30]["author"]}\n{good[1]["author"]},{good[2]["author"]}\n'
    )
    # Excel's "CSV UTF-8" starts with a byte-order mark
    (folder / "pairs_bom.csv").write_text(
        "\ufeff" + "".join(",".join(p) + "\n" for p in pairs), encoding="utf-8"
    )
    # A trained-model stand-in: an n-gram model folder (what `train --encoder ngram` writes), and damaged copies.
    model = folder / "model"
    NgramEncoder(char_buckets=2**12, word_buckets=2**11, dim=16).fit([r["text"] for r in good]).save(model)
    from authorid.artefacts import write_manifest

    write_manifest(model, "model")
    for name, damage in (("m_trunc", 1000), ("m_garb", None), ("m_missing", 0)):
        copy = folder / name
        shutil.copytree(model, copy)
        weights = copy / "ngram.safetensors"
        if damage == 0:
            weights.unlink()
        elif damage is None:
            weights.write_bytes(b"\xff" * 4096)
        else:
            weights.write_bytes(weights.read_bytes()[:damage])
    (folder / "m_badjson").mkdir()
    shutil.copy(model / "ngram.safetensors", folder / "m_badjson")
    (folder / "m_badjson" / "ngram.json").write_text("{not json")
    # Calibrations: garbage, partial, wrong types.
    (folder / "cal_garb.json").write_text("{{{")
    (folder / "cal_partial.json").write_text(
        json.dumps({"format": "authorid.calibration", "version": 1, "method": "platt", "params": {}})
    )
    (folder / "cal_types.json").write_text(
        json.dumps(
            {
                "format": "authorid.calibration",
                "version": 1,
                "method": "platt",
                "params": {"coef": "x", "intercept": 0},
                "threshold": 7,
            }
        )
    )
    return folder


def run(bad: Path, *args: str):
    """Run the CLI in `bad` (relative names) and return (exit code, output)."""
    result = runner.invoke(app, [str(a).format(bad=bad) for a in args], catch_exceptions=True)
    return result, result.output


#: (audit id, command, exit code, pattern the output must match: a one-line error naming the file or option)
FAULTS = [
    (
        "B01",
        ["ingest", "{bad}/malformed.jsonl", "-o", "{bad}/o1.parquet"],
        2,
        r"malformed\.jsonl: line 5: malformed JSON",
    ),
    (
        "B03",
        ["ingest", "{bad}/trunc.jsonl.gz", "-o", "{bad}/o3.parquet"],
        2,
        r"trunc\.jsonl\.gz: damaged or truncated",
    ),
    (
        "B04",
        ["ingest", "{bad}/notgz.jsonl.gz", "-o", "{bad}/o4.parquet"],
        2,
        r"notgz\.jsonl\.gz: damaged or truncated",
    ),
    ("B07", ["ingest", "{bad}/empty.jsonl", "-o", "{bad}/o7.parquet"], 2, r"empty\.jsonl: holds no records"),
    (
        "B09",
        ["ingest", "{bad}/header_only.csv", "-o", "{bad}/o9.parquet"],
        2,
        r"header_only\.csv: holds no records",
    ),
    ("B10", ["ingest", "{bad}/no_text.jsonl", "-o", "{bad}/o10.parquet"], 2, r"no column for text"),
    (
        "B17",
        ["ingest", "{bad}/nan_text.jsonl", "-o", "{bad}/o17.parquet"],
        2,
        r"line 1: field 'text' \(text\) is missing",
    ),
    ("B20", ["ingest", "{bad}/bad_array.json", "-o", "{bad}/o20.parquet"], 2, r"bad_array\.json"),
    ("B23", ["ingest", "{bad}/corrupt.parquet", "-o", "{bad}/o23.parquet"], 2, r"corrupt\.parquet"),
    ("B24", ["ingest", "{bad}/does_not_exist.jsonl", "-o", "{bad}/o24.parquet"], 2, r"does_not_exist\.jsonl"),
    (
        "B27",
        ["ingest", "{bad}/good.jsonl", "--limit", "0", "-o", "{bad}/o27.parquet"],
        2,
        r"--limit must be >= 1",
    ),
    (
        "B30",
        ["ingest", "{bad}/good.jsonl", "-o", "{bad}/afile/o.parquet"],
        2,
        r"afile.*a file of that name is in the way",
    ),
    (
        "B32",
        ["embed", "stylometric", "{bad}/good.jsonl", "-o", "/proc/self/nope/v.parquet"],
        2,
        r"/proc/self/nope/v\.parquet: cannot",
    ),
    (
        "B34",
        [
            "attribute",
            "stylometric",
            "--known",
            "{bad}/good.jsonl",
            "{bad}/good.jsonl",
            "-o",
            "{bad}/mine.csv",
        ],
        2,
        r"mine\.csv exists; pass --overwrite",
    ),
    (
        "B35",
        ["index", "build", "stylometric", "{bad}/good.jsonl", "-o", "{bad}/model"],
        2,
        r"model holds a model, not an index",
    ),
    (
        "B37",
        [
            "attribute",
            "stylometric",
            "--known",
            "{bad}/single_account.jsonl",
            "{bad}/good.jsonl",
            "-o",
            "{bad}/p37.csv",
        ],
        2,
        r"needs at least 2 known authors",
    ),
    ("B43", ["link", "{bad}/empty_dir", "{bad}/good.jsonl"], 2, r"empty_dir is not an authorid index"),
    (
        "B46",
        ["embed", "{bad}/m_missing", "{bad}/good.jsonl", "-o", "{bad}/v46.parquet"],
        2,
        r"m_missing.*ngram\.safetensors: missing",
    ),
    (
        "B47",
        ["embed", "{bad}/m_trunc", "{bad}/good.jsonl", "-o", "{bad}/v47.parquet"],
        2,
        r"m_trunc.*ngram\.safetensors",
    ),
    (
        "B48",
        ["embed", "{bad}/m_garb", "{bad}/good.jsonl", "-o", "{bad}/v48.parquet"],
        2,
        r"m_garb.*ngram\.safetensors",
    ),
    (
        "B49",
        ["embed", "{bad}/m_badjson", "{bad}/good.jsonl", "-o", "{bad}/v49.parquet"],
        2,
        r"m_badjson.*ngram\.json: unreadable",
    ),
    (
        "B53",
        [
            "score",
            "{bad}/model",
            "{bad}/good.jsonl",
            "--pairs",
            "{bad}/pairs.csv",
            "--calibration",
            "{bad}/cal_garb.json",
            "-o",
            "{bad}/s53.csv",
        ],
        2,
        r"cal_garb\.json: not JSON",
    ),
    (
        "B54",
        [
            "score",
            "{bad}/model",
            "{bad}/good.jsonl",
            "--pairs",
            "{bad}/pairs.csv",
            "--calibration",
            "{bad}/cal_partial.json",
            "-o",
            "{bad}/s54.csv",
        ],
        2,
        r"cal_partial\.json: platt calibration lacks coef",
    ),
    (
        "B55",
        [
            "score",
            "{bad}/model",
            "{bad}/good.jsonl",
            "--pairs",
            "{bad}/pairs.csv",
            "--calibration",
            "{bad}/cal_types.json",
            "-o",
            "{bad}/s55.csv",
        ],
        2,
        r"cal_types\.json: coef must be a finite number",
    ),
    (
        "B57",
        [
            "score",
            "{bad}/model",
            "{bad}/good.jsonl",
            "--pairs",
            "{bad}/pairs_unknown.csv",
            "--calibration",
            "{bad}/cal.json",
            "-o",
            "{bad}/s57.csv",
        ],
        2,
        r"pairs_unknown\.csv line 2: unknown account 'nobody'",
    ),
    ("B69", ["link", "{bad}/index", "{bad}/good.jsonl", "-k", "0"], 2, r"-k must be >= 1"),
    (
        "B69b",
        ["link", "{bad}/index", "{bad}/good.jsonl", "--threshold", "2"],
        2,
        r"--threshold .* must lie in \[-1, 1\]",
    ),
    # Audit of stop 31: each said before the corpus is read (absent.jsonl does not exist, and its error never comes).
    (
        "C03",
        [
            "link",
            "{bad}/nindex",
            "{bad}/absent.jsonl",
            "--calibration",
            "{bad}/cal.json",
            "--threshold",
            "-0.5",
        ],
        2,
        r"--threshold is a probability with a calibration and must lie in \[0, 1\], got -0\.5",
    ),
    ("C04", ["link", "{bad}/no_index", "{bad}/absent.jsonl"], 2, r"no_index"),
    (
        "C05",
        [
            "index",
            "build",
            "{bad}/model",
            "{bad}/absent.jsonl",
            "-o",
            "{bad}/i5",
            "--kind",
            "ivf",
            "--nprobe",
            "0",
        ],
        2,
        r"--nprobe must be >= 1, got 0",
    ),
    (
        "C05b",
        ["index", "build", "{bad}/model", "{bad}/absent.jsonl", "-o", "{bad}/i5", "--kind", "foo"],
        2,
        r"unknown index kind 'foo'",
    ),
    (
        "C06",
        [
            "cluster",
            "{bad}/model",
            "{bad}/absent.jsonl",
            "-o",
            "{bad}/c6",
            "--calibration",
            "{bad}/cal.json",
            "--threshold",
            "2",
        ],
        2,
        r"threshold 2\.0 is a probability with a calibration and must lie in \[0, 1\]",
    ),
    (
        "C06b",
        ["cluster", "{bad}/model", "{bad}/absent.jsonl", "-o", "{bad}/c6", "--method", "kmeans"],
        2,
        r"unknown clustering method 'kmeans'",
    ),
    (
        "C06d",
        ["cluster", "{bad}/model", "{bad}/absent.jsonl", "-o", "{bad}/c6", "--min-precision", "1.5"],
        2,
        r"--min-precision must lie in \[0, 1\], got 1\.5",
    ),
    (
        "C06e",
        ["cluster", "stylometric", "{bad}/good.jsonl", "-o", "{bad}/c6e", "--min-precision", "0.9"],
        2,
        r"--min-precision needs a calibration \(P\(same person\) on every edge\): stylometric has none",
    ),
    (
        "S34a",  # score without -o: a one-line error, not a traceback
        [
            "score",
            "{bad}/model",
            "{bad}/good.jsonl",
            "--pairs",
            "{bad}/pairs.csv",
            "--calibration",
            "{bad}/cal.json",
        ],
        2,
        r"give --out/-o: the CSV file to write the scored pairs to",
    ),
    (
        "S34b",  # said before the corpus is read (it is absent)
        ["cluster", "{bad}/model", "{bad}/absent.jsonl", "-o", "{bad}/c34", "--seed", "-1"],
        2,
        r"--seed must be >= 0, got -1",
    ),
    (
        "S34c",
        ["evaluate", "{bad}/model", "{bad}/absent.jsonl", "-o", "{bad}/e34", "--seed", "-1"],
        2,
        r"--seed must be >= 0, got -1",
    ),
    (
        "S34d",  # the model's own calibration makes --threshold a probability, before the corpus is read
        ["cluster", "style", "{bad}/absent.jsonl", "-o", "{bad}/c34d", "--threshold", "1.5"],
        2,
        r"threshold 1\.5 is a probability with a calibration and must lie in \[0, 1\]",
    ),
    (
        "S34e",  # an unclosed quote in a pairs file swallows the lines after it
        [
            "score",
            "{bad}/model",
            "{bad}/good.jsonl",
            "--pairs",
            "{bad}/pairs_quote.csv",
            "--calibration",
            "{bad}/cal.json",
            "-o",
            "{bad}/s34e.csv",
        ],
        2,
        r"pairs_quote\.csv line 3: field account_b holds a line break: a quote in this pair is never closed",
    ),
    (
        "S34g",  # the vectors are Parquet whatever the name says
        ["embed", "stylometric", "{bad}/good.jsonl", "-o", "{bad}/v.csv"],
        2,
        r"-o .*v\.csv: embed writes Parquet; name the file \.parquet",
    ),
    (
        "S34h",  # said before the corpus is read
        ["fuse", "stylometric", "nosuch", "{bad}/absent.jsonl", "-o", "{bad}/f34h"],
        2,
        r"model 'nosuch'",
    ),
    (
        "S34i",  # vectors `embed` centred on their own corpus, given to an n-gram index: the fix is named
        ["link", "{bad}/nindex", "--vectors", "{bad}/qv.parquet", "-o", "{bad}/l34i.csv"],
        2,
        r"qv\.parquet: embedded by .* centred on their own corpus, .* give the query CORPUS instead of --vectors",
    ),
    (
        "S34f",
        ["evaluate", "{bad}/model", "{bad}/absent.jsonl", "-o", "{bad}/e34f", "--min-precision", "0.9"],
        2,
        r"--min-precision set\(s\) the clustering protocol; add --protocol clustering",
    ),
    (
        "S35a",  # a transformer's size preset no longer trains an n-gram model with 16 accounts a step
        ["train", "{bad}/good.jsonl", "--base", "style", "--preset", "quick", "-o", "{bad}/t35a"],
        2,
        r"--preset quick sizes a transformer fine-tune, but this run trains the n-gram encoder",
    ),
    (
        "S35c",  # a transformer checkpoint was silently ignored: the n-gram encoder trained from scratch
        ["train", "{bad}/good.jsonl", "--preset", "ngram", "--base", "minilm", "-o", "{bad}/t35c"],
        2,
        r"--base minilm is not an n-gram model, and this run trains the n-gram encoder",
    ),
    (
        "S35d",  # said "unknown base 'style'"
        ["train", "{bad}/good.jsonl", "--base", "style", "--encoder", "transformer", "-o", "{bad}/t35d"],
        2,
        r"--base style is an n-gram model: it trains on as the n-gram encoder; drop --encoder transformer",
    ),
    (
        "S35e",  # link, score, attribute and calibrate wrote their format under any name
        ["link", "{bad}/nindex", "{bad}/good.jsonl", "-o", "{bad}/l.parquet"],
        2,
        r"-o .*l\.parquet: link writes CSV; name the file \.csv",
    ),
    (
        "S35f",
        ["score", "{bad}/model", "{bad}/good.jsonl", "--pairs", "{bad}/pairs.csv", "-o", "{bad}/s.json"],
        2,
        r"-o .*s\.json: score writes CSV; name the file \.csv",
    ),
    (
        "S35g",
        [
            "attribute",
            "stylometric",
            "{bad}/good.jsonl",
            "--known",
            "{bad}/good.jsonl",
            "-o",
            "{bad}/a.parquet",
        ],
        2,
        r"-o .*a\.parquet: attribute writes CSV; name the file \.csv",
    ),
    (
        "S35h",
        ["calibrate", "{bad}/model", "{bad}/good.jsonl", "-o", "{bad}/c.csv"],
        2,
        r"-o .*c\.csv: calibrate writes JSON; name the file \.json",
    ),
    (
        "S35i",  # cluster made a folder called clx.csv
        ["cluster", "stylometric", "{bad}/good.jsonl", "-o", "{bad}/clx.csv"],
        2,
        r"clx\.csv: the clusters output is a folder; give a folder name, not a file's",
    ),
    (
        "S35j",  # an unclosed quote on the last line was told as a missing field, after the corpus was read
        [
            "score",
            "{bad}/model",
            "{bad}/absent.jsonl",
            "--pairs",
            "{bad}/pairs_open.csv",
            "-o",
            "{bad}/s35j.csv",
        ],
        2,
        r"pairs_open\.csv line 3: field account_a holds a line break: a quote in this pair is never closed",
    ),
    (
        "S35k",  # a short line: said before the (absent) corpus is read
        [
            "score",
            "{bad}/model",
            "{bad}/absent.jsonl",
            "--pairs",
            "{bad}/pairs_short.csv",
            "-o",
            "{bad}/s35k.csv",
        ],
        2,
        r"pairs_short\.csv line 3: field account_b is missing \(the header has 2 fields\)",
    ),
    (
        "S35l",  # said "not account vectors written by `authorid embed` (no column n_posts)"
        ["cluster", "style", "--vectors", "{bad}/post_vectors.parquet", "-o", "{bad}/c35l"],
        2,
        r"post_vectors\.parquet: post vectors \(`authorid embed --level post`\); this needs account vectors",
    ),
    (
        "S35m",  # said "model 'stylometric' is fitted on a corpus; none was given"
        ["index", "build", "stylometric", "--vectors", "{bad}/post_vectors.parquet", "-o", "{bad}/i35m"],
        2,
        r"model 'stylometric' is fitted on the corpus it embeds, so it needs the CORPUS: --vectors cannot",
    ),
    (
        "S35b",
        ["train", "{bad}/good.jsonl", "--encoder", "transformer", "--preset", "ngram", "-o", "{bad}/t35b"],
        2,
        r"--preset ngram sizes the n-gram encoder, but this run trains model.encoder transformer",
    ),
    (
        "C06c",
        ["calibrate", "{bad}/model", "{bad}/absent.jsonl", "-o", "{bad}/c.json", "--abstain", "foo"],
        2,
        r"--abstain 'foo' is not an abstain rule; valid: c@1",
    ),
    (
        "C07",
        ["calibrate", "{bad}/model", "{bad}/absent.jsonl", "-o", "{bad}/c.json", "--method", "svm"],
        2,
        r"--method 'svm' is not a calibration method",
    ),
    (
        "C07b",
        ["calibrate", "{bad}/model", "{bad}/absent.jsonl", "-o", "{bad}/c.json", "--seed", "-1"],
        2,
        r"--seed must be >= 0, got -1",
    ),
    (
        "C08",
        ["ingest", "{bad}/good.jsonl", "-o", "{bad}/posts.csv"],
        2,
        r"-o .*posts\.csv: ingest writes Parquet",
    ),
    (
        "C09",
        ["ingest", "{bad}/first_bad.jsonl", "-o", "{bad}/i9.parquet"],
        2,
        r"first_bad\.jsonl: line 1: malformed JSON .*\(no readable record to take columns from\)",
    ),
    (
        "C10",
        ["calibrate", "{bad}/model", "{bad}/single_account.jsonl", "-o", "{bad}/c10.json"],
        2,
        r"calibrate needs at least 2 accounts with 2 posts or more .* the corpus has 1 of 1 accounts",
    ),
    ("C11", ["compare", "{bad}/cal.json"], 2, r"cal\.json: not the metrics\.json of an evaluation run"),
    (
        "C12",
        ["cluster", "{bad}/model", "{bad}/absent.jsonl", "-o", "{bad}/c12", "--max-groups", "-1"],
        2,
        r"--max-groups must be >= 0, got -1",
    ),
    (
        "C13",
        ["evaluate", "{bad}/model", "{bad}/absent.jsonl", "-o", "{bad}/ev13", "--by", "weekday"],
        2,
        r"--by must be 'time', 'random' or 'auto', got 'weekday'",
    ),
    (
        "C13b",
        ["evaluate", "{bad}/model", "{bad}/absent.jsonl", "-o", "{bad}/ev13", "--max-posts", "-1"],
        2,
        r"--max-posts must be >= 1, got -1",
    ),
    (
        "C14",
        [
            "attribute",
            "{bad}/model",
            "{bad}/absent.jsonl",
            "--known",
            "{bad}/absent.jsonl",
            "-o",
            "{bad}/p14.csv",
            "--method",
            "knn",
        ],
        2,
        r"unknown attribution method 'knn'",
    ),
    (
        "C14b",
        [
            "attribute",
            "{bad}/model",
            "{bad}/absent.jsonl",
            "--known",
            "{bad}/absent.jsonl",
            "-o",
            "{bad}/p14.csv",
            "--method",
            "svm",
            "--threshold",
            "-0.5",
        ],
        2,
        r"open-set threshold -0\.5 is a probability here and must lie in \[0, 1\]",
    ),
    (
        "C07c",
        ["embed", "nomodel", "{bad}/absent.jsonl", "-o", "{bad}/e.parquet"],
        2,
        r"model 'nomodel': not a known name",
    ),
    (
        # audit 5: a mistyped model was told to calibrate itself ("no calibration for model 'nomodel'")
        "A5-4",
        ["score", "nomodel", "{bad}/absent.jsonl", "--pairs", "{bad}/pairs.csv", "-o", "{bad}/s5.csv"],
        2,
        r"model 'nomodel': not a known name",
    ),
    (
        # audit 5: "unknown preset 'reddit_college'", though the README offers --preset NAME for every corpus
        "A5-6",
        ["train", "{bad}/absent.jsonl", "--preset", "reddit_college", "-o", "{bad}/t6"],
        2,
        r"'reddit_college' is a corpus preset: `train` reads it with --corpus-preset reddit_college",
    ),
    (
        # audit 6: 1-post accounts were counted eligible, then dropped (sybil said 140 accounts, scored 80) or
        # made authors without a test text (attribution's macro-F1 averaged over them)
        "A6-2",
        ["evaluate", "style", "{bad}/absent.jsonl", "--min-posts", "1", "-o", "{bad}/ev6"],
        2,
        r"--min-posts must be >= 2, got 1: every protocol cuts an account in two",
    ),
    (
        "C07d",
        [
            "score",
            "{bad}/model",
            "{bad}/absent.jsonl",
            "--pairs",
            "{bad}/pairs.csv",
            "--calibration",
            "{bad}/cal_other.json",
            "-o",
            "{bad}/s7.csv",
        ],
        2,
        # audit 9: the file is named
        r"cal_other\.json: the calibration was fitted for model .* \(fingerprint 0123456789abcdef\)",
    ),
]


@pytest.fixture(scope="module")
def prepared(bad):
    """What some faults need first: an index of the good corpus and a calibration of the model."""
    (bad / "empty_dir").mkdir()
    result, output = run(bad, "index", "build", "stylometric", "{bad}/good.jsonl", "-o", "{bad}/index")
    assert result.exit_code == 0, output
    result, output = run(bad, "calibrate", "{bad}/model", "{bad}/good.jsonl", "-o", "{bad}/cal.json")
    assert result.exit_code == 0, output
    other = json.loads((bad / "cal.json").read_text())
    other["info"]["model"]["fingerprint"] = "0123456789abcdef"
    (bad / "cal_other.json").write_text(json.dumps(other))
    # an n-gram model's index: its model is centred on the enrolled accounts (another fingerprint than the model's)
    result, output = run(bad, "index", "build", "{bad}/model", "{bad}/good.jsonl", "-o", "{bad}/nindex")
    assert result.exit_code == 0, output
    result, output = run(bad, "embed", "{bad}/model", "{bad}/good.jsonl", "-o", "{bad}/qv.parquet")
    assert result.exit_code == 0, output
    return bad


@pytest.mark.parametrize(("audit", "args", "code", "pattern"), FAULTS, ids=[f[0] for f in FAULTS])
def test_each_fault_is_one_line_naming_the_file_and_never_a_traceback(prepared, audit, args, code, pattern):
    result, output = run(prepared, *args)
    assert "Traceback" not in output, output
    assert result.exit_code == code, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    assert re.search(pattern, errors[0]), errors[0]


def test_a_pairs_file_with_a_byte_order_mark_is_read(prepared):
    result, output = run(
        prepared,
        *("score", "{bad}/model", "{bad}/good.jsonl", "--pairs", "{bad}/pairs_bom.csv"),
        *("--calibration", "{bad}/cal.json", "-o", "{bad}/s_bom.csv"),
    )
    assert result.exit_code == 0, output
    assert "scored 1 pairs" in output


def test_outputs_are_never_overwritten_without_being_asked(prepared):
    bad = prepared
    assert (bad / "mine.csv").read_text() == "precious\n"  # B34: the user's file survived
    model_files = sorted(p.name for p in (bad / "model").iterdir())
    assert "index.json" not in model_files  # B35: nothing was written into the model folder
    for args in (
        ["embed", "stylometric", "{bad}/good.jsonl", "-o", "{bad}/mine.parquet"],
        [
            "score",
            "{bad}/model",
            "{bad}/good.jsonl",
            "--pairs",
            "{bad}/pairs.csv",
            "--calibration",
            "{bad}/cal.json",
            "-o",
            "{bad}/mine.csv",
        ],
        ["link", "{bad}/index", "{bad}/good.jsonl", "-o", "{bad}/mine.csv"],
        ["ingest", "{bad}/good.jsonl", "-o", "{bad}/mine.parquet"],
        ["calibrate", "{bad}/model", "{bad}/good.jsonl", "-o", "{bad}/cal.json"],
        ["cluster", "stylometric", "{bad}/good.jsonl", "-o", "{bad}/index"],
        ["evaluate", "stylometric", "{bad}/good.jsonl", "-o", "{bad}/model"],
        ["index", "build", "stylometric", "{bad}/good.jsonl", "-o", "{bad}/index"],
    ):
        result, output = run(bad, *args)
        assert result.exit_code == 2, (args, output)
        assert re.search(
            r"exists; pass --overwrite|holds an? \w+, not (an? )?\w+|holds an index already", output
        ), output
    assert (bad / "mine.csv").read_text() == "precious\n"
    assert (bad / "mine.parquet").read_text() == "precious\n"


def test_a_csv_quote_that_swallows_records_is_warned_and_nul_characters_counted(prepared):
    result, output = run(prepared, "ingest", "{bad}/ragged.csv", "-o", "{bad}/rag.parquet")
    assert result.exit_code == 0 and "ragged.csv: line" in output and "unterminated quote" in output, output
    # audit 9: every command says it, not only ingest (embed wrote the merged record without a word)
    result, output = run(prepared, "embed", "stylometric:2", "{bad}/ragged.csv", "-o", "{bad}/rag_v.parquet")
    assert result.exit_code == 0 and "warning:" in output and "ragged.csv: line" in output, output
    result, output = run(prepared, "ingest", "{bad}/nul.csv", "-o", "{bad}/nul.parquet", "--json")
    assert result.exit_code == 0, output
    assert json.loads(output)["read"]["nul_characters_removed"] == 1


def test_a_calibration_for_another_model_is_refused_unless_forced(prepared):
    bad = prepared
    args = [
        "index",
        "build",
        "minilm",
        "{bad}/good.jsonl",
        "-o",
        "{bad}/idx56",
        "--calibration",
        "{bad}/cal.json",
    ]
    result, output = run(bad, *args)
    assert result.exit_code == 2 and "fitted for model" in output and "--force" in output, output
    result, output = run(bad, *args, "--force")
    assert result.exit_code == 0, output


def test_link_reads_a_calibration_of_the_model_an_index_was_built_from(prepared):
    """An n-gram model's index keeps the model centred on its enrolled accounts, whose fingerprint differs from
    the model's: a calibration `authorid calibrate` fitted for the model is still this index's."""
    args = ["link", "{bad}/nindex", "{bad}/good.jsonl", "-k", "2", "-o", "{bad}/l4.csv"]
    result, output = run(prepared, *args, "--calibration", "{bad}/cal.json")
    assert result.exit_code == 0, output
    assert "--calibration" in " ".join(output.split())  # the summary names the calibration read
    result, output = run(prepared, *args, "--calibration", "{bad}/cal_other.json", "--overwrite")
    assert result.exit_code == 2 and "fingerprint 0123456789abcdef" in output, output


def test_an_index_build_stopped_before_its_index_json_is_replaced_with_overwrite(prepared):
    """What an interrupted `index build` leaves (a generation folder, no index.json) is an index to replace, not
    a folder authorid did not write."""
    bad = prepared
    shutil.copytree(bad / "index", bad / "i_part")
    (bad / "i_part" / "index.json").unlink()
    args = ["index", "build", "stylometric", "{bad}/good.jsonl", "-o", "{bad}/i_part"]
    result, output = run(bad, *args)
    assert (
        result.exit_code == 2
        and "holds an unfinished index (its writing stopped); pass --overwrite" in " ".join(output.split())
    ), output
    result, output = run(bad, *args, "--overwrite")
    assert result.exit_code == 0, output
    assert (bad / "i_part" / "index.json").is_file()


def test_calibrate_into_a_model_folder_keeps_the_model_usable(prepared):
    """`calibrate MODEL` writes MODEL/calibration.json, a file the model's manifest lists: the manifest is written
    again, so the model is not refused as damaged afterwards (it was, at stop 30)."""
    bad = prepared
    shutil.copytree(bad / "model", bad / "m_cal")
    for _ in range(2):  # the second time replaces the calibration the first wrote
        result, output = run(bad, "calibrate", "{bad}/m_cal", "{bad}/good.jsonl", "--overwrite")
        assert result.exit_code == 0, output
        result, output = run(
            bad, "embed", "{bad}/m_cal", "{bad}/good.jsonl", "-o", "{bad}/m_cal.parquet", "--overwrite"
        )
        assert result.exit_code == 0, output
    manifest = json.loads((bad / "m_cal" / "authorid-manifest.json").read_text())
    assert manifest["kind"] == "model" and "calibration.json" in manifest["files"]


def test_vectors_from_embed_are_reused_and_checked(prepared):
    bad = prepared
    result, output = run(bad, "embed", "{bad}/model", "{bad}/good.jsonl", "-o", "{bad}/vectors.parquet")
    assert result.exit_code == 0, output
    result, output = run(
        bad, "cluster", "{bad}/model", "--vectors", "{bad}/vectors.parquet", "-o", "{bad}/cl", "--json"
    )
    assert result.exit_code == 0, output
    assert json.loads(output[output.index("{") :])["stats"]["n_accounts"] == 10
    result, output = run(bad, "cluster", "minilm", "--vectors", "{bad}/vectors.parquet", "-o", "{bad}/cl2")
    assert result.exit_code == 2 and "vectors.parquet: made by model" in output, output


def test_a_closed_stdout_pipe_loses_no_output(prepared, monkeypatch):
    """B68: `authorid link ... -o links.csv | head -1`: the CSV is written before anything is printed."""
    from authorid.cli import common

    def closed(*args, **kwargs):
        raise BrokenPipeError

    monkeypatch.setattr(common.console, "print", closed)
    result, _ = run(prepared, "link", "{bad}/index", "{bad}/good.jsonl", "-o", "{bad}/links68.csv")
    assert result.exit_code == 0
    assert (prepared / "links68.csv").read_text().startswith("query_account,rank,account_id")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["score", "style", "posts.jsonl", "--prior", "abc"], "authorid score: Invalid value for '--prior':"),
        (["cluster", "style", "posts.jsonl", "--threshold", "high"], "authorid cluster: Invalid value for"),
        (["score"], "authorid score: Missing argument 'MODEL'."),
        (["link", "index", "q.jsonl", "--bogus"], "authorid link: No such option: --bogus"),
    ],
)
def test_a_malformed_command_line_is_one_line_too(capsys, args, said):
    """What typer rejects before a command runs (a value of the wrong type, a missing argument, an unknown
    option) is said by the `authorid` program in one line on stderr with exit status 2, not in a box."""
    from authorid.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(args)
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith(said), err
    assert err.rstrip().endswith("--help')"), err


def test_the_program_exits_0_after_help_and_after_a_command(capsys, tmp_path):
    from authorid.cli import main

    for args in (["--help"], ["score", "--help"], ["corpora"]):
        with pytest.raises(SystemExit) as exit_:
            main(args)
        assert exit_.value.code == 0, capsys.readouterr()
    assert "Usage: authorid score" in capsys.readouterr().out


def test_usage_lines_name_the_arguments_as_the_help_texts_do():
    # audit 15a: typer printed `authorid score [OPTIONS] {model} [corpus]` while every help text says MODEL / CORPUS
    import typer

    from authorid.cli import app

    def commands(command, path):  # typer vendors its own click: groups are told by their subcommands
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from commands(sub, (*path, name))
        else:
            yield " ".join(path), command

    seen = {}
    for name, command in commands(typer.main.get_command(app), ()):
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        for argument in arguments:
            assert argument.metavar == argument.name.upper(), (name, argument.name, argument.metavar)
        seen[name] = [a.metavar for a in arguments]
    assert seen["score"] == ["MODEL", "CORPUS"] and seen["attribute"] == ["MODEL", "TEXTS"]
    assert seen["link"] == ["INDEX", "QUERY_CORPUS"] and seen["index remove"] == ["INDEX", "ACCOUNT_IDS"]
    result = runner.invoke(app, ["explain", "--help"], terminal_width=200)
    assert "Usage: authorid explain [OPTIONS] {MODEL} {CORPUS} {ACCOUNT_A} {ACCOUNT_B}" in result.output


def test_a_failed_command_takes_back_the_empty_folders_it_created(tmp_path):
    # audit 5: a failed `compress` left its empty model folder behind
    new = tmp_path / "new" / "model"
    args = ["compress", "style", "enron_demo", "--dim", "64", "-o"]
    result = runner.invoke(app, [*args, str(new)])
    assert result.exit_code == 2 and "more than 64 accounts with 8 posts or more" in result.output
    assert not (tmp_path / "new").exists()  # the chain it made, gone
    kept = tmp_path / "mine"
    kept.mkdir()
    assert runner.invoke(app, [*args, str(kept)]).exit_code == 2
    assert kept.is_dir()  # a folder the user made stays


def test_audit_15_messages_say_what_to_do(tmp_path):
    said = lambda result: " ".join(result.output.split())  # noqa: E731
    # `calibrate MODEL CORPUS` on a model folder that holds its own calibration (train, fuse and demo write one):
    # the error named `-o MODEL/calibration.json`, an option never typed
    model = tmp_path / "model"
    model.mkdir()
    (model / "calibration.json").write_text("{}")
    result = runner.invoke(app, ["calibrate", str(model), "enron_demo"])
    assert result.exit_code == 2 and (
        f"{model} already holds its calibration ({model / 'calibration.json'}, written with the model): pass"
        " --overwrite to replace it with one fitted on CORPUS, or -o FILE to write another" in said(result)
    )
    # a confidence of 1 is a certainty no calibrated P gives: refused, not pushed to the highest threshold
    result = runner.invoke(
        app, ["cluster", "style", "enron_demo", "-o", str(tmp_path / "c"), "--confidence", "1"]
    )
    assert result.exit_code == 2 and "--confidence is a probability and must lie in [0, 1)" in said(result)
    # --explain without a corpus is refused before the vectors are read
    vectors = tmp_path / "v.parquet"
    assert runner.invoke(app, ["embed", "style", "enron_demo", "-o", str(vectors)]).exit_code == 0
    result = runner.invoke(
        app, ["cluster", "style", "--vectors", str(vectors), "-o", str(tmp_path / "c"), "--explain"]
    )
    assert result.exit_code == 2 and said(result).startswith("error: --explain needs the corpus")
    # an account missing from a vectors file is not "not in the corpus": no corpus was given
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("account_a,account_b\n183141,nobody\n")
    args = ["score", "style", "--vectors", str(vectors), "--pairs", str(pairs), "-o", str(tmp_path / "s.csv")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "unknown account 'nobody' (not in the account vectors)" in said(result)
    # compress: the demo has 40 accounts in all, so lowering --min-posts cannot reach 64
    result = runner.invoke(app, ["compress", "style", "enron_demo", "--dim", "64", "-o", str(tmp_path / "x")])
    assert "the corpus has 40 of 40 accounts: lower --dim below 40" in said(result)
