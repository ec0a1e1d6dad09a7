"""The import graph of the `authorid` package: its levels, cycles and arrows that run the wrong way.

    python scripts/import_graph.py            # levels, cycles, the longest chain, wrong-way arrows
    python scripts/import_graph.py --json     # the same as JSON

How it counts (`tests/test_architecture.py` holds the package to it):
- a node is a module of the package; package `__init__` files and `__main__` are not nodes: they only
  re-export names or register commands, and an import through a package is followed to the module that
  defines the name (`from authorid.encoders import embed_texts` is an arrow to `authorid.encoders.embed`);
- an arrow is an import of another module of the package that runs when the code runs: at the top of a
  file or inside a function. Imports under `if TYPE_CHECKING:` are left out of the levels (they never run)
  but kept for the cycle check;
- a module's level is 1 when it imports no other module of the package, else 1 + the highest level among
  those it imports; the package's level count is the highest level (the longest chain of imports).
"""

from __future__ import annotations

import argparse
import ast
import json
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "authorid"
#: The floors: a stage (anything outside these two) never imports a workflow or the CLI.
WORKFLOWS, CLI = "authorid.workflows", "authorid.cli"
#: Ground modules the CLI may use besides workflows: settings parsing, its error types, the progress display.
CLI_GROUND = ("authorid.config", "authorid.errors", "authorid.progress")


@dataclass(frozen=True)
class Import:
    module: str  #: the module imported from (as written)
    name: str | None  #: the name imported (`from m import name`), None for `import m`
    local: bool  #: inside a function
    typing_only: bool  #: under `if TYPE_CHECKING:`
    line: int


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> list[Import]:
    """Every absolute import in the file, with where it sits."""
    found: list[Import] = []

    def visit(node: ast.AST, local: bool, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend(Import(a.name, None, local, typing_only, child.lineno) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.extend(
                    Import(child.module, a.name, local, typing_only, child.lineno) for a in child.names
                )
            is_function = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            guarded = isinstance(child, ast.If) and _is_type_checking(child)
            visit(child, local or is_function, typing_only or guarded)

    visit(ast.parse(path.read_text(encoding="utf-8")), False, False)
    return found


class ImportGraph:
    def __init__(self, root: Path):
        self.root = root
        self.files = {self._name(p): p for p in sorted(root.rglob("*.py"))}
        self.packages = {m for m, p in self.files.items() if p.name == "__init__.py"}
        self.nodes = [m for m in self.files if m not in self.packages and not m.endswith("__main__")]
        self.imports = {m: imports_of(p) for m, p in self.files.items()}

    def _name(self, path: Path) -> str:
        parts = list(path.relative_to(self.root.parent).with_suffix("").parts)
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    def provider(self, module: str, name: str | None, seen: frozenset = frozenset()) -> str | None:
        """The module that really defines `name` imported from `module` (following package re-exports)."""
        if name is not None and f"{module}.{name}" in self.files:
            return f"{module}.{name}"
        if module not in self.packages or name is None or (module, name) in seen:
            return module if module in self.files else None
        for imp in self.imports[module]:
            if imp.name in (name, "*") and imp.module.startswith(PACKAGE):
                return self.provider(imp.module, name, seen | {(module, name)})
        return module

    def arrows(self, *, typing: bool = False) -> dict[str, set[str]]:
        """Module -> the modules it imports (runtime only unless `typing`)."""
        graph: dict[str, set[str]] = {m: set() for m in self.nodes}
        for module in self.nodes:
            for imp in self.imports[module]:
                if not imp.module.startswith(PACKAGE) or (imp.typing_only and not typing):
                    continue
                target = self.provider(imp.module, imp.name)
                if target in graph and target != module:
                    graph[module].add(target)
        return graph

    def levels(self) -> dict[str, int]:
        graph, level = self.arrows(), {}

        def depth(module: str, path: tuple[str, ...] = ()) -> int:
            if module in path:  # a cycle: counted by `cycles`, not here
                return 0
            if module not in level:
                level[module] = 1 + max((depth(d, (*path, module)) for d in graph[module]), default=0)
            return level[module]

        for module in graph:
            depth(module)
        return level

    def longest_chain(self) -> list[str]:
        graph, level = self.arrows(), self.levels()
        chain = [max(level, key=lambda m: (level[m], m))]
        while below := sorted(d for d in graph[chain[-1]] if level[d] == level[chain[-1]] - 1):
            chain.append(below[0])
        return chain

    def cycles(self) -> list[list[str]]:
        """Strongly connected components of more than one module, TYPE_CHECKING imports included."""
        graph = self.arrows(typing=True)
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        found: list[list[str]] = []

        def strong(v: str) -> None:
            index[v] = low[v] = len(index)
            stack.append(v)
            for w in graph[v]:
                if w not in index:
                    strong(w)
                    low[v] = min(low[v], low[w])
                elif w in stack:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

        for v in graph:
            if v not in index:
                strong(v)
        return found

    def upward(self) -> list[str]:
        """Imports that run up the floors: a stage importing a workflow or the CLI, a workflow importing the
        CLI, the CLI importing anything but workflows and the ground modules it presents (CLI_GROUND)."""
        bad = []
        for module in self.files:
            for imp in self.imports[module]:
                if not imp.module.startswith(PACKAGE):
                    continue
                target = self.provider(imp.module, imp.name) or imp.module
                where = f"{module} -> {target} (line {imp.line})"
                in_cli, in_workflows = module.startswith(CLI), module.startswith(WORKFLOWS)
                if not in_cli and not in_workflows and target.startswith((WORKFLOWS, CLI)):
                    if module not in (PACKAGE, f"{PACKAGE}.__main__"):  # the package's entry points
                        bad.append(where)
                elif in_workflows and target.startswith(CLI):
                    bad.append(where)
                elif in_cli and not target.startswith((CLI, WORKFLOWS, *CLI_GROUND)):
                    bad.append(where)
        return bad

    def local_imports(self) -> list[tuple[str, int, str]]:
        """(file, line, source line) of every function-local import of the package's own modules."""
        out = []
        for module, path in self.files.items():
            lines = path.read_text(encoding="utf-8").splitlines()
            for imp in self.imports[module]:
                if imp.local and imp.module.startswith(PACKAGE):
                    out.append((str(path), imp.line, lines[imp.line - 1].strip()))
        return sorted(set(out))


def summary(root: Path) -> dict:
    graph = ImportGraph(root)
    levels = graph.levels()
    return {
        "modules": len(graph.nodes),
        "levels": max(levels.values()),
        "longest_chain": graph.longest_chain(),
        "cycles": graph.cycles(),
        "upward_imports": graph.upward(),
        "function_local_imports": [f"{f}:{n}: {text}" for f, n, text in graph.local_imports()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1] / PACKAGE)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args()
    result = summary(args.root)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['modules']} modules, {result['levels']} levels, {len(result['cycles'])} cycles")
    print("longest chain: " + " -> ".join(result["longest_chain"]))
    for cycle in result["cycles"]:
        print("cycle: " + " <-> ".join(cycle))
    for arrow in result["upward_imports"]:
        print("runs up: " + arrow)
    print(f"{len(result['function_local_imports'])} function-local imports of the package's own modules:")
    for line in result["function_local_imports"]:
        print("  " + line)


if __name__ == "__main__":
    main()
