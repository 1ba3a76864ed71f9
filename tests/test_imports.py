"""The engine's import graph: no module of pipeline/ imports another that imports it back.

Every `from .x import` counts, also those inside functions (lazy imports): a cycle there still
ties two concepts together, and breaks as soon as one of the imports moves to the top of a file.
"""

import ast
from pathlib import Path

PIPELINE = Path(__file__).resolve().parents[1] / "pipeline"


def import_graph() -> dict[str, set[str]]:
    """Each module of pipeline/ and the modules of pipeline/ it imports, anywhere in its code."""
    graph = {}
    for path in PIPELINE.glob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names = [node.module] if node.module else [alias.name for alias in node.names]
                imported |= {name.split(".")[0] for name in names}
        graph[path.stem] = imported & {p.stem for p in PIPELINE.glob("*.py")} - {path.stem}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle a depth-first walk meets, as the modules along it."""
    found: list[list[str]] = []
    walking: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        walking.append(module)
        for target in sorted(graph[module]):
            if target in walking:
                found.append([*walking[walking.index(target) :], target])
            elif target not in done:
                visit(target)
        walking.pop()
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            visit(module)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_module_of_the_engine_imports_itself_back():
    graph = import_graph()
    assert {"renderer", "backends", "inversion", "timeline", "frame_recipe"} <= set(graph)
    assert cycles(graph) == []
