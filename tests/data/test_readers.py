"""Readers: every supported format, column maps, presets, and bad input named by file, line and field."""

from __future__ import annotations

import csv
import gzip
import json
import re
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from samples import raw_records

from authorid.data.readers import parse_column_map, read_posts, resolve_corpus
from authorid.errors import InputError


@pytest.fixture(scope="module")
def reddit_raw():
    return raw_records("reddit", 200)


def write_jsonl(path, records, gz=False):
    payload = "".join(json.dumps(r) + "\n" for r in records).encode()
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def test_reddit_jsonl_gz_maps_common_names_onto_canonical_columns(tmp_path, reddit_raw):
    path = write_jsonl(tmp_path / "dump.jsonl.gz", reddit_raw, gz=True)
    posts, report = read_posts(path)
    assert len(posts) == 200
    assert report.column_map == {
        "post_id": "id",
        "account_id": "author",
        "text": "text",
        "created_at": "timestamp",
        "thread_id": "thread",
        "parent_id": "parent",
        "forum": "source",
    }
    first = posts[0]
    assert first["post_id"] == "gfgtrbz"
    assert first["account_id"] == "--------___----"
    assert first["text"] == "Congrats"
    assert first["created_at"] == datetime(2020, 12, 12, 0, 43, 27, tzinfo=UTC)
    assert first["forum"] == "r/College"
    assert report.accounts_out == len({r["author"] for r in reddit_raw})


def test_explicit_map_and_preset(tmp_path, reddit_raw):
    records = [{"user": r["author"], "body": r["text"], "when": r["timestamp"]} for r in reddit_raw[:20]]
    path = write_jsonl(tmp_path / "renamed.jsonl", records)
    posts, report = read_posts(path, columns="user=account_id,body=text,when=created_at")
    assert posts[3]["account_id"] == reddit_raw[3]["author"]
    assert posts[3]["created_at"].isoformat() == reddit_raw[3]["timestamp"].replace("Z", "+00:00")
    # generated post ids name the file and line
    assert posts[0]["post_id"] == "renamed.jsonl:line 1"
    # a preset's map applies to a file elsewhere: reddit's `source` is the forum, which auto-detection also finds
    posts, report = read_posts(write_jsonl(tmp_path / "r.jsonl", reddit_raw[:5]), preset="reddit_college")
    assert report.column_map["forum"] == "source" and posts[0]["thread_id"] == reddit_raw[0]["thread"]


def test_missing_required_column_lists_the_columns_that_exist(tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", [{"author": "a", "headline": "h"}])
    with pytest.raises(InputError) as info:
        read_posts(path)
    assert str(info.value) == (
        f"{path}: no column for text; columns found: 'author', 'headline'; name it with --map COLUMN=text"
    )


@pytest.mark.parametrize(
    ("name", "header", "hint"),
    [
        (
            "x.csv",
            "post_id;account_id;text",
            "separated by ';', and a .csv file is read as comma-separated: save"
            " it with commas as .csv (or tabs as .tsv)",
        ),
        (
            "x.csv",
            "post_id\taccount_id\ttext",
            "separated by tabs, and a .csv file is read as comma-separated: name it .tsv",
        ),
        (
            "x.tsv.gz",
            "post_id,account_id,text",
            "separated by commas, and a .tsv file is read as tab-separated: name it .csv",
        ),
    ],
)
def test_a_csv_written_with_another_separator_is_said_so(tmp_path, name, header, hint):
    """A spreadsheet's "CSV" with ';' (audit 9): its header reads as one column, and --map cannot help."""
    import gzip

    sep = header[len("post_id")]
    text = f"{header}\n1{sep}alice{sep}hello there\n"
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    with pytest.raises(InputError) as info:
        read_posts(path)
    assert str(info.value) == (
        f"{path}: no column for account_id, text; columns found: {header!r}; the header is one field {hint}"
    )


def test_map_naming_an_absent_column(tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", [{"author": "a", "text": "t"}])
    with pytest.raises(
        InputError, match="--map names column 'body', which is absent; columns: 'author', 'text'"
    ):
        read_posts(path, columns="body=text")


@pytest.mark.parametrize(
    "spec, message",
    [
        ("author", "is not SOURCE=CANONICAL"),
        ("author=user", "'user' is not a canonical column"),
        ("a=text,b=text", "several sources for text"),
    ],
)
def test_bad_column_map(spec, message):
    with pytest.raises(InputError, match=message):
        parse_column_map(spec)


def test_a_column_mapped_twice_is_refused_not_overwritten():
    with pytest.raises(InputError) as info:
        parse_column_map("author=account_id, author=text")
    assert str(info.value) == (
        "--map maps column 'author' twice (author=account_id and author=text); a column can feed one canonical column"
    )


def test_malformed_line_names_file_and_line_and_skip_counts_it(tmp_path, reddit_raw):
    lines = [json.dumps(r) for r in reddit_raw[:5]]
    lines.insert(2, '{"author": "x", "text": ')  # truncated record on line 3
    lines.insert(4, json.dumps({"author": "", "text": "no author"}))  # line 5
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as info:
        read_posts(path)
    assert str(info.value).startswith(f"{path}: line 3: malformed JSON (Expecting value, column 25)")
    posts, report = read_posts(path, on_error="skip")
    assert len(posts) == 5
    assert report.read["skipped_errors"] == 2
    assert report.errors[1] == f"{path}: line 5: field 'author' (account_id) is missing or empty"


def test_bad_timestamp_names_the_field(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{"author": "a", "text": "x", "timestamp": "yesterday"}])
    with pytest.raises(InputError, match=r"line 1: field 'timestamp': unreadable timestamp 'yesterday'"):
        read_posts(path)


def test_bytes_that_are_not_utf8_are_refused_or_under_skip_replaced_counted_and_named(tmp_path):
    # audit 9: a cp1252 file was read with U+FFFD in place of every accent, under --on-error raise, silently
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(
        b'{"author": "b", "text": "ok"}\n{"author": "a", "text": "caf\xe9 au lait"}\n'
        b'{"author": "a", "text": "d\xe9j\xe0 vu"}\n'
    )
    with pytest.raises(InputError) as err:
        read_posts(path)
    assert str(err.value) == (
        f"{path}: line 2: bytes that are not UTF-8 (and on 1 more lines); convert the file to UTF-8 (e.g. `iconv"
        " -f cp1252 -t utf-8`), or pass --on-error skip to read each such byte as U+FFFD"
    )
    posts, report = read_posts(path, on_error="skip")
    assert posts[1]["text"] == "caf\ufffd au lait"
    assert report.read["lines_with_undecodable_bytes_replaced"] == 2
    assert report.warnings == [
        f"{path}: line 2: bytes that are not UTF-8 (and on 1 more lines), read as U+FFFD"
    ]


def test_lone_surrogate_escapes_are_replaced_and_counted(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"author": "a", "text": "smile \\ud83d"}\n')
    posts, report = read_posts(path)
    assert posts[0]["text"] == "smile ?"
    assert report.read["texts_with_invalid_surrogates_replaced"] == 1


def test_csv_tsv_parquet_and_folder_give_the_same_posts(tmp_path, reddit_raw):
    records = reddit_raw[:50]
    names = ["id", "author", "text", "timestamp"]
    for name, delimiter in (("d.csv", ","), ("d.tsv", "\t")):
        with open(tmp_path / name, "w", newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter)
            writer.writerow(names)
            writer.writerows([[r[n] for n in names] for r in records])
    pq.write_table(pa.Table.from_pylist([{n: r[n] for n in names} for r in records]), tmp_path / "d.parquet")
    expected = [(r["id"], r["author"], r["text"]) for r in records]
    for name in ("d.csv", "d.tsv", "d.parquet"):
        posts, _ = read_posts(tmp_path / name)
        assert list(zip(posts["post_id"], posts["account_id"], posts["text"], strict=True)) == expected, name
    folder_posts, report = read_posts(tmp_path)
    assert len(folder_posts) == 150
    assert [p.rsplit("/", 1)[1] for p in report.sources] == ["d.csv", "d.parquet", "d.tsv"]


def test_csv_row_with_wrong_field_count(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("author,text\na,hello\nb,hi,extra\n")
    with pytest.raises(InputError, match=r"x.csv: line 3: 3 fields where the header has 2"):
        read_posts(path)


@pytest.mark.parametrize("name", ["excel.csv", "excel.csv.gz", "excel.tsv"])
def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path, name):
    # Excel's "CSV UTF-8" starts the file with a BOM, which would make the first column "\ufeffauthor".
    delimiter = "\t" if ".tsv" in name else ","
    payload = (
        f"\ufeffauthor{delimiter}text\r\nalice{delimiter}caf\u00e9 au lait\r\nbob{delimiter}hi\r\n".encode()
    )
    path = tmp_path / name
    path.write_bytes(gzip.compress(payload) if name.endswith(".gz") else payload)
    posts, report = read_posts(path)
    assert report.column_map == {"account_id": "author", "text": "text"}
    assert posts["account_id"] == ["alice", "bob"]
    assert posts["text"] == ["caf\u00e9 au lait", "hi"]


def test_a_byte_order_mark_before_json_is_dropped(tmp_path):
    lines = tmp_path / "notepad.jsonl"
    lines.write_bytes(b'\xef\xbb\xbf{"author": "a", "text": "one"}\n{"author": "b", "text": "two"}\n')
    array = tmp_path / "notepad.json"
    array.write_bytes(b'\xef\xbb\xbf[{"author": "a", "text": "one"}, {"author": "b", "text": "two"}]')
    for path in (lines, array):
        posts, _ = read_posts(path)
        assert posts["text"] == ["one", "two"], path.name


def test_column_names_in_messages_are_quoted_so_stray_spaces_show(tmp_path):
    path = tmp_path / "spaced.csv"
    path.write_text("author, text\na,hello\n")  # a space after the comma: the second column is " text"
    with pytest.raises(InputError) as info:
        read_posts(path)
    assert str(info.value) == (
        f"{path}: no column for text; columns found: 'author', ' text'; name it with --map COLUMN=text"
    )
    with pytest.raises(InputError) as info:
        read_posts(path, columns="text=text")
    assert (
        str(info.value) == f"{path}: --map names column 'text', which is absent; columns: 'author', ' text'"
    )


UNCLOSED = (
    "a quoted field is never closed (the quote opened on this line runs to the end of the file, "
    "so nothing after it can be read)"
)


def test_a_quote_never_closed_is_an_error_not_a_swallowed_file(tmp_path):
    path = tmp_path / "open.csv"
    path.write_text('author,text\nalice,"hello\nbob,world\n')
    with pytest.raises(InputError) as info:
        read_posts(path)
    assert (
        str(info.value)
        == f"{path}: line 2: field 'text': {UNCLOSED} (no readable record to take columns from)"
    )
    # the same in skip mode: there is no record before it to read
    with pytest.raises(InputError, match=r"open.csv: line 2: field 'text': a quoted field is never closed"):
        read_posts(path, on_error="skip")


def test_a_quote_never_closed_after_good_records_names_its_line_and_skip_keeps_those_before(tmp_path):
    path = tmp_path / "late.csv.gz"
    path.write_bytes(
        gzip.compress(b'author,text,id\nalice,fine,1\nbob,"multi\nline",2\ncarol,"no end,3\ndave,lost,4\n')
    )
    with pytest.raises(InputError) as info:
        read_posts(path)
    assert str(info.value) == (
        f"{path}: line 5: field 'text': {UNCLOSED} (use --on-error skip to count and skip such records)"
    )
    posts, report = read_posts(path, on_error="skip")
    assert posts["text"] == ["fine", "multi\nline"]
    assert report.read["skipped_errors"] == 1
    assert report.errors == [f"{path}: line 5: field 'text': {UNCLOSED}"]


def test_a_quote_never_closed_in_the_header(tmp_path):
    path = tmp_path / "head.csv"
    path.write_text('author,"text\nalice,hello\n')
    with pytest.raises(InputError) as info:
        read_posts(path)
    assert str(info.value) == (
        f"{path}: line 1: malformed header: {UNCLOSED} (no readable record to take columns from)"
    )


def test_a_closed_multi_line_field_and_a_last_line_without_newline_are_fine(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text('author,text\nalice,"two\nlines"\nbob,"last, no newline"')
    posts, report = read_posts(path)
    assert posts["text"] == ["two\nlines", "last, no newline"]
    assert not report.errors


def test_json_array_file(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps([{"username": "a", "content": "one"}, {"username": "b", "content": "two"}]))
    posts, report = read_posts(path)
    assert posts["account_id"] == ["a", "b"]
    assert posts["post_id"] == ["a.json:record 1", "a.json:record 2"]
    assert report.column_map == {"account_id": "username", "text": "content"}


def test_preset_name_as_corpus_reads_the_bundled_demo():
    posts, report = read_posts("enron_demo")
    assert len(posts) == 960
    assert report.accounts_out == 40
    assert posts.column_names == ["post_id", "account_id", "text", "split"]


def test_limit_and_empty_result(tmp_path):
    posts, report = read_posts("enron_demo", limit=10)
    assert len(posts) == 10 and report.read["stopped_at_limit"] == 10
    path = tmp_path / "blank.jsonl"
    path.write_text("\n\n")
    with pytest.raises(InputError, match="blank.jsonl: holds no records"):
        read_posts(path)
    path.write_text(json.dumps({"author": "", "text": "x"}) + "\n")
    with pytest.raises(InputError, match=r"no posts read \(1 records, 1 skipped\)"):
        read_posts(path, on_error="skip")


def test_unknown_corpus_and_format(tmp_path):
    with pytest.raises(InputError, match="no such file or folder, and not a corpus preset"):
        resolve_corpus(tmp_path / "nothing.jsonl")
    (tmp_path / "x.xml").write_text("<a/>")
    with pytest.raises(InputError, match="unknown format"):
        resolve_corpus(tmp_path / "x.xml")


@pytest.mark.parametrize(("line", "kind"), [("null", "null"), ("[1, 2]", "an array"), ("7", "a number")])
def test_a_json_line_that_is_not_an_object_is_named_in_jsons_words(tmp_path, line, kind):
    # audit 9: a `null` line was "found NoneType"
    path = tmp_path / "x.jsonl"
    path.write_text('{"author": "a", "text": "x"}\n' + line + "\n")
    with pytest.raises(InputError) as err:
        read_posts(path)
    assert str(err.value).startswith(f"{path}: line 2: expected a JSON object, found {kind}")


def test_an_id_exported_as_a_float_is_the_same_account_as_the_integer(tmp_path):
    # audit 9: author 183141.0 (a float column) and 183141 were two accounts
    path = write_jsonl(
        tmp_path / "ids.jsonl",
        [
            {"author": 183141, "text": "one"},
            {"author": 183141.0, "text": "two"},
            {"author": "183141", "text": "three"},
            {"author": 2.5, "text": "four"},
        ],
    )
    posts, report = read_posts(path)
    assert posts["account_id"] == ["183141", "183141", "183141", "2.5"]
    assert report.accounts_out == 2


def test_a_truncated_gz_names_the_last_record_read_and_skip_keeps_the_records_before(tmp_path):
    # audit 9: a truncated .gz gave no position, and --on-error skip could not keep the records before the break
    import gzip

    lines = "".join(
        f'{{"author": "a{i % 5}", "text": "post number {i} {"x" * (i % 7)}"}}\n' for i in range(3000)
    )
    whole = gzip.compress(lines.encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError) as err:
        read_posts(path)
    said = str(err.value)
    assert said.startswith(f"{path}: damaged or truncated after line ")
    assert said.endswith("check or re-copy the file (--on-error skip keeps the records before the break)")
    last = int(said.split("after line ")[1].split(" ")[0])
    posts, report = read_posts(path, on_error="skip")
    assert len(posts) == last and 0 < last < 3000
    assert report.read["skipped_errors"] == 1 and report.errors[0].startswith(f"{path}: damaged or truncated")


def test_texts_without_an_author_column_are_read_when_authors_are_optional(tmp_path):
    path = tmp_path / "texts.jsonl"
    path.write_text('{"text": "first"}\n{"id": "b", "text": "second"}\n')
    with pytest.raises(InputError, match="no column for account_id"):
        read_posts(path)
    posts, report = read_posts(path, authors_optional=True)
    assert posts["post_id"] == ["texts.jsonl:line 1", "b"]
    assert posts["account_id"] == posts["post_id"]  # each text an account of its own
    assert "account_id" not in report.column_map


def test_multi_line_csv_text_with_a_carriage_return_reads_and_warns_of_nothing(tmp_path):
    """Audit 11: a carriage return inside quoted multi-line text (14 of 20,000 Reddit posts saved by pandas)
    ended in a traceback, and a well-formed two-line field was warned of as a swallowed record."""
    path = tmp_path / "cr.csv"
    path.write_bytes(
        b'author,text,id\na,"x\ny\r z\nw",1\nb,"I agree\nbut, honestly",2\nc,hello,3\nd,"e\r f\ng\nh",4\n'
    )
    posts, report = read_posts(path)
    assert posts["text"] == ["x\ny\r z\nw", "I agree\nbut, honestly", "hello", "e\r f\ng\nh"]
    assert report.warnings == []


def test_a_quote_left_open_after_a_comma_is_warned_of_too(tmp_path):
    # the review of audit 12's fix: a first line asked to be a whole record hid this swallow (4 records lost)
    path = tmp_path / "swallow.csv"
    path.write_text(
        'author,text,time\nalice,"oops, I forgot to close,1\nbob,hi there,2\ncarol,hey you,3\nerin,yo yo,5\n'
        'dave,"late",4\nfrank,ok,6\n'
    )
    posts, report = read_posts(path)
    assert posts["account_id"] == ["alice", "frank"]
    assert "line 2: this record runs over 5 lines, 4 of which read as whole records" in report.warnings[0]


def test_a_quoted_field_holding_lines_that_look_like_records_is_no_swallow(tmp_path):
    # audit 13: a pasted timetable in a well-quoted last field was warned of
    path = tmp_path / "schedule.csv"
    path.write_text(
        'author,text\nann,hello\nbob,"my schedule this term:\nMon,9am lab\nTue,10am lecture\nWed,free"\n'
    )
    posts, report = read_posts(path)
    assert posts["text"][1] == "my schedule this term:\nMon,9am lab\nTue,10am lecture\nWed,free"
    assert report.warnings == []


def test_records_swallowed_by_a_quote_are_warned_of(tmp_path):
    path = tmp_path / "swallow.csv"
    # the quote left open is closed by the next one, which opens dave's text: text follows it, not a comma
    path.write_text('author,text,id\nalice,"oops,1\nbob,fine,2\ncarol,ok,3\ndave,"late",4\nerin,after,5\n')
    posts, report = read_posts(path)
    assert posts["account_id"] == ["alice", "erin"]
    assert len(report.warnings) == 1
    assert "line 2: this record runs over 4 lines, 3 of which read as whole records" in report.warnings[0]


def test_an_epoch_time_out_of_range_names_its_line_and_field(tmp_path):
    path = tmp_path / "late.jsonl"
    path.write_text('{"author": "a", "text": "hi", "created_utc": 1e300}\n{"author": "b", "text": "yo"}\n')
    with pytest.raises(
        InputError, match=r"late.jsonl: line 1: field 'created_utc': epoch time 1e\+300 is outside"
    ):
        read_posts(path)
    posts, report = read_posts(path, on_error="skip")
    assert posts["account_id"] == ["b"] and report.read["skipped_errors"] == 1


def test_posts_without_ids_in_a_folder_are_named_after_their_paths_in_it(tmp_path):
    """Audit 11: posts.jsonl in x/ and in y/ gave their posts the same ids, said as duplicates in the input."""
    for folder, author in (("x", "a"), ("y", "b")):
        (tmp_path / "dump" / folder).mkdir(parents=True)
        (tmp_path / "dump" / folder / "posts.jsonl").write_text(
            json.dumps({"author": author, "text": "hi"}) + "\n"
        )
    posts, report = read_posts(tmp_path / "dump")
    assert sorted(posts["post_id"]) == ["x/posts.jsonl:line 1", "y/posts.jsonl:line 1"]
    assert "duplicate_post_ids" not in report.read


def test_a_folder_whose_files_name_columns_differently_says_each_map(tmp_path):
    """Audit 11: the first file's map was printed and saved as if it held for every file."""
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "a.jsonl").write_text(json.dumps({"author": "x", "body": "hi"}) + "\n")
    (tmp_path / "dump" / "b.jsonl").write_text(json.dumps({"user": "y", "text": "yo"}) + "\n")
    posts, report = read_posts(tmp_path / "dump")
    assert sorted(posts["text"]) == ["hi", "yo"]
    assert report.column_map_said() == (
        "author -> account_id, body -> text (1 file: a.jsonl); user -> account_id, text -> text (1 file: b.jsonl)"
    )
    _, one = read_posts(tmp_path / "dump" / "a.jsonl")
    assert one.column_map_said() == "author -> account_id, body -> text" and not one.file_column_maps


def test_an_id_written_as_a_whole_float_in_csv_is_the_same_account(tmp_path):
    """Audit 11: pandas writes an id column with a missing value as floats, "183141.0" in a CSV, which read as
    another account than "183141" (as a float from JSON or Parquet it already was one)."""
    path = tmp_path / "ids.csv"
    path.write_text("author,text,id\n183141.0,one,1.0\n183141,two,2\n22.5,three,3\n")
    posts, _ = read_posts(path)
    assert posts["account_id"] == ["183141", "183141", "22.5"]  # not a whole number: left as written
    assert posts["post_id"] == ["1", "2", "3"]


def test_a_json_field_first_seen_after_the_peeked_records_is_said_and_can_be_mapped(tmp_path):
    """Audit 11: columns come from a JSON file's first 1,000 records; a field first seen later was dropped
    without a word, and `--map` naming it was refused as absent."""
    path = tmp_path / "late.jsonl"
    rows = [{"author": f"a{i % 7}", "text": f"post {i}"} for i in range(1_200)]
    rows += [{"author": "b", "text": f"late {i}", "timestamp": 1607733807 + i} for i in range(300)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    posts, report = read_posts(path)
    assert "created_at" not in posts.column_names
    assert report.warnings == [
        f"{path}: field 'timestamp' first appears after the records the columns are read from, so it was not read"
        " (300 records have it): read it with --map timestamp=created_at"
    ]
    posts, report = read_posts(path, columns="timestamp=created_at")
    times = posts["created_at"]
    assert times[:1_200] == [None] * 1_200 and times[1_200] == datetime(2020, 12, 12, 0, 43, 27, tzinfo=UTC)
    assert report.warnings == []


def test_a_limit_reached_in_the_first_file_lists_only_the_files_read(tmp_path):
    """Audit 11: `sources` listed every file of the folder though --limit stopped in the first."""
    (tmp_path / "dump").mkdir()
    for name in ("a", "b"):
        (tmp_path / "dump" / f"{name}.jsonl").write_text(
            "".join(json.dumps({"author": name, "text": f"post {i}"}) + "\n" for i in range(5))
        )
    posts, report = read_posts(tmp_path / "dump", limit=3)
    assert len(posts) == 3 and report.sources == [str(tmp_path / "dump" / "a.jsonl")]
    _, whole = read_posts(tmp_path / "dump")
    assert len(whole.sources) == 2


@pytest.fixture
def small_reads(monkeypatch):
    """JSON arrays read 50 bytes at a time, so records, escapes and characters are cut by reads."""
    from authorid.data.readers import formats

    monkeypatch.setattr(formats, "_ARRAY_READ_BYTES", 50)


@pytest.mark.parametrize("indent", [None, 1])
def test_a_json_array_read_in_pieces_gives_the_posts_json_lines_give(
    tmp_path, reddit_raw, small_reads, indent
):
    # A JSON array was read whole (4x the file in memory): streamed now, records cut anywhere by a read.
    records = [*reddit_raw, {"author": "zoë", "text": 'caf\u00e9 \U0001f600 \\u00e9 "quoted"', "n": 1.5e3}]
    lines = write_jsonl(tmp_path / "dump.jsonl", records)
    array = tmp_path / "dump.json"
    array.write_bytes(b"\xef\xbb\xbf" + json.dumps(records, indent=indent, ensure_ascii=False).encode())
    (expected, _), (posts, report) = read_posts(lines), read_posts(array)
    assert len(posts) == len(records)
    for column in ("account_id", "text", "created_at", "thread_id", "parent_id"):
        assert posts[column] == expected[column], column
    assert posts["text"][-1] == 'caf\u00e9 \U0001f600 \\u00e9 "quoted"'
    assert not report.errors


def test_a_json_array_is_not_read_whole_to_take_its_columns(tmp_path, reddit_raw):
    from authorid.data.readers.formats import _ARRAY_READ_BYTES, _iter_records, source_columns
    from authorid.data.report import IngestReport

    array = tmp_path / "big.json"
    array.write_text(json.dumps(reddit_raw * 40))  # ~8,000 records, several reads
    assert array.stat().st_size > 4 * _ARRAY_READ_BYTES
    assert "author" in source_columns(array)
    records, counter = _iter_records(array, IngestReport())
    assert next(records).fields == reddit_raw[0]
    assert counter.position() <= _ARRAY_READ_BYTES + 2**16  # one read (and the buffer under it), not the file
    records.close()


@pytest.mark.parametrize(
    "payload",
    [
        '[{"author": "a", "text": "one"},\n {"author": "b", "text": "two"},\n {"author": "c" "text": "x"},\n {}]',
        '[{"author": "a", "text": "one"},\n {"author": "b", "text": "two"}\n {"author": "c", "text": "x"}]',
        '[{"author": "a", "text": "one"},\n {"author": "b", "text": "two"},\n {"author": "c", "text": "x\ty"}]',
        '[{"author": "a", "text": "one"},\n  {"author": "b", "text": "two"},\n\n  {"author": "c", "text": "x}]',
    ],
)
def test_a_broken_json_array_is_named_at_the_line_and_column_jsons_decoder_names(
    tmp_path, small_reads, payload
):
    path = tmp_path / "broken.json"
    path.write_text(payload)
    with pytest.raises(json.JSONDecodeError) as whole:
        json.loads(payload)
    with pytest.raises(InputError) as err:
        read_posts(path)
    assert f"{path}: line {whole.value.lineno}: malformed JSON (" in str(err.value)
    assert f", column {whole.value.colno})" in str(err.value)
    posts, report = read_posts(
        path, on_error="skip"
    )  # the records before the fault are kept, the fault counted
    assert posts["account_id"] == ["a", "b"]
    assert report.read["skipped_errors"] == 1


@pytest.mark.parametrize(
    ("payload", "said"),
    [
        (
            '[{"author": "a", "text": "one"}, {"author": "b", "text": "two"}',
            "line 1: malformed JSON (the array is never closed",
        ),
        (
            '[{"author": "a", "text": "one"}] x',
            "line 1: malformed JSON (Extra data after the array, column 34)",
        ),
        ('[{"author": "a", "text": "one"}, 7]', "record 2: expected a JSON object, found a number"),
    ],
)
def test_the_ends_of_a_json_array_are_checked(tmp_path, small_reads, payload, said):
    path = tmp_path / "ends.json"
    path.write_text(payload)
    with pytest.raises(InputError, match=re.escape(said)):
        read_posts(path)


def test_a_value_or_a_zero_width_space_cut_by_a_read_is_read_whole(tmp_path, small_reads):
    # the review: `12.` at the end of a read was taken as 12 (then "Expecting ','" and the rest lost), and a
    # U+FEFF starting any read of a one-line array was dropped as a byte-order mark
    for pad in range(40, 52):
        records = [{"author": "a", "text": "x" * pad}, 12.5, {"author": "b", "text": "\ufeffy" * 30}]
        path = tmp_path / f"cut{pad}.json"
        path.write_text(json.dumps(records, ensure_ascii=False))
        posts, report = read_posts(path, on_error="skip")
        assert posts["text"] == ["x" * pad, "\ufeffy" * 30], pad
        assert report.errors == [f"{path}: record 2: expected a JSON object, found a number"], pad


def test_undecodable_bytes_in_a_json_array_are_named_by_line_across_reads(tmp_path, small_reads):
    path = tmp_path / "latin1.json"
    path.write_bytes(
        b'[{"author": "a", "text": "' + b"x" * 60 + b'"},\n{"author": "b", "text": "caf\xe9"},\n'
        b'{"author": "c", "text": "\xc3\xa9t\xc3\xa9"}]'
    )
    with pytest.raises(InputError, match=r"latin1\.json: line 2: .*UTF-8"):
        read_posts(path)


def test_reddit_posts_written_by_pythons_csv_module_read_back_without_warnings(tmp_path):
    # audits 12 and 13: well-quoted multi-line posts whose lines hold commas were warned of as swallowed records
    # (7 of these 40,000 posts until audit 12, 2 after it; the audit's market file 5 of 9,888)
    records = raw_records("reddit", 40_000)
    path = tmp_path / "reddit.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["author", "text", "timestamp"])  # the text in the middle: a line of it with 2 commas
        writer.writerows([r["author"], r["text"], r["timestamp"]] for r in records)
    posts, report = read_posts(path)
    assert posts["text"] == [r["text"] for r in records]
    assert report.warnings == [] and "warnings" not in report.read and not report.errors


def test_a_multi_line_csv_record_is_named_by_the_line_it_starts_on(tmp_path):
    # audit 12: its generated post_id named its last line, while warnings named its first
    path = tmp_path / "m.csv"
    path.write_text(
        'vendor,message,posted\nv1,"First line.\nSecond, with a comma, and another\nThird",1\nv2,x,2\n'
    )
    posts, report = read_posts(path, columns="vendor=account_id,message=text")
    assert posts["post_id"] == ["m.csv:line 2", "m.csv:line 5"]
    assert report.warnings == []
    path.write_text('vendor,message,posted\nv1,"two\nlines",1,extra\nv2,x,2\n')
    with pytest.raises(InputError, match=r"m\.csv: line 2: 4 fields where the header has 3"):
        read_posts(path, columns="vendor=account_id,message=text")
