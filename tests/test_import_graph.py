"""The sub-packages import one another in one direction only: no circles, function-level and
type-checking imports included, and no layer imports one above it (../shared/DESIGN.md)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import veclift

PACKAGE = Path(veclift.__file__).parent
# (importer, imported) pairs the layering forbids besides any circle.
FORBIDDEN = [
    ("vectors", "tasks"), ("vectors", "embeddings"), ("vectors", "study"),
    ("data", "vectors"), ("data", "tasks"), ("data", "embeddings"),
    ("embeddings", "tasks"), ("embeddings", "pretrain"), ("embeddings", "study"),
    ("contextual", "embeddings"), ("contextual", "tasks"),
    ("tasks", "study"), ("tasks", "pretrain"),
    *((low, "cli") for low in ("vectors", "data", "embeddings", "contextual", "tasks", "pretrain", "study")),
    *((low, "serve") for low in ("vectors", "data", "embeddings", "contextual", "tasks", "pretrain", "study")),
    ("serve", "cli"),
    *((low, "integrations") for low in ("vectors", "data", "embeddings", "contextual", "tasks", "pretrain", "study", "serve")),
    *(("integrations", high) for high in ("pretrain", "study", "serve", "cli")),
]  # fmt: skip


def _node(module: str) -> str:
    """The sub-package (or top-level module) of a dotted module name inside veclift."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "veclift"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, dict[str, list[str]]]:
    """node -> imported node -> the files that import it, every import statement counted."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]) if node.level else ""
                name = ".".join(p for p in (base, node.module) if p)
                targets = [name] if node.module else [f"{name}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                if target.startswith("veclift.") and _node(target) != _node(module):
                    graph[_node(module)][_node(target)].append(str(path.relative_to(PACKAGE)))
    return graph


def _cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    found, stack = [], []

    def visit(node: str) -> None:
        if node in stack:
            found.append(stack[stack.index(node):] + [node])
            return
        stack.append(node)
        for target in sorted(graph.get(node, {})):
            visit(target)
        stack.pop()

    for start in sorted(graph):
        visit(start)
    return found


def test_the_walk_sees_imports_inside_functions(tmp_path):
    graph = import_graph()
    assert "contextual" in graph["embeddings"]  # a module-level import
    assert "pretrain" in graph["cli"]  # imported inside the command functions only
    assert "serve" in graph["cli"] and "data" in graph["serve"]


def test_no_import_circles_between_sub_packages():
    cycles = _cycles(import_graph())
    assert not cycles, "import circles: " + "; ".join(" -> ".join(c) for c in cycles[:5])


def test_no_layer_imports_one_above_it():
    graph = import_graph()
    wrong = [f"{low} imports {high} ({', '.join(sorted(set(graph[low][high])))})" for low, high in FORBIDDEN
             if high in graph.get(low, {})]  # fmt: skip
    assert not wrong, wrong


def test_building_the_command_line_loads_neither_torch_nor_scikit_learn():
    """`veclift --help` and `veclift vectors info` start in a fraction of a second."""
    import subprocess
    import sys

    code = "import sys, veclift.cli as c; c._register(); print(sorted({'torch', 'sklearn'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
