"""The floors of docs/architecture.md hold: imports run one way, no cycles, at most 8 levels, and the only
function-local imports of the package's own modules are the CLI's deferred workflows (`--help` stays fast)."""

from __future__ import annotations

from pathlib import Path

import pytest
from import_graph import ImportGraph

ROOT = Path(__file__).resolve().parents[1] / "authorid"


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    return ImportGraph(ROOT)


def test_no_stage_imports_a_workflow_or_the_cli(graph):
    assert graph.upward() == []


def test_there_is_no_import_cycle(graph):
    assert graph.cycles() == []


def test_the_longest_chain_of_imports_has_at_most_eight_modules(graph):
    chain = graph.longest_chain()
    assert len(chain) <= 8, " -> ".join(chain)


def test_only_the_cli_defers_imports_of_the_package_and_says_why(graph):
    for path, line, text in graph.local_imports():
        assert Path(path).parent.name == "cli" and "from authorid.workflows." in text, f"{path}:{line}"
        assert "# deferred" in text, f"{path}:{line}: say why the import is deferred"


def test_the_graph_sees_an_upward_import_and_a_cycle(tmp_path):
    """The checks above can fail: a stage that imports a workflow, and two modules importing each other."""
    package = tmp_path / "authorid"
    (package / "workflows").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "workflows" / "__init__.py").write_text("")
    (package / "workflows" / "train.py").write_text("from authorid.stage import x\n")
    (package / "stage.py").write_text("from authorid.workflows.train import y\nx = 1\n")
    graph = ImportGraph(package)
    assert graph.upward() == ["authorid.stage -> authorid.workflows.train (line 1)"]
    assert graph.cycles() == [["authorid.stage", "authorid.workflows.train"]]
