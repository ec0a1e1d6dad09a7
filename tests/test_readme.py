"""The README shows what the code does: its losses table is the one the code generates."""

from pathlib import Path

from authorid.losses import markdown_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_losses_table_matches_the_code():
    assert markdown_table() in README.read_text()


def test_readme_gives_the_two_setup_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text


def test_every_path_in_where_things_are_exists():
    text = README.read_text().split("## Where things are", 1)[1].split("```")[1]
    paths = [line.split()[0] for line in text.splitlines() if line and not line.startswith(" ")]
    assert len(paths) > 10
    missing = [p for p in paths if not (README.parent / p).exists()]
    assert missing == []
