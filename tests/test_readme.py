"""The README shows what the code does: its losses table is the one the code generates."""

from pathlib import Path

from authorid.losses import markdown_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_losses_table_matches_the_code():
    assert markdown_table() in README.read_text()


def test_readme_gives_the_two_setup_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text
