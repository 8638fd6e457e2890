"""fer_utils' modules import one way: no cycles, also not through imports inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import fer_utils

PACKAGE = Path(fer_utils.__file__).parent


def import_graph() -> dict[str, set[str]]:
    """Module -> the fer_utils modules it imports anywhere in its source (top level or in a function)."""
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for m in modules:
        for node in ast.walk(ast.parse((PACKAGE / f"{m}.py").read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                targets = [node.module] if node.module else [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fer_utils"):
                targets = [node.module.split(".", 1)[1]] if "." in node.module else [a.name for a in node.names]
            else:
                continue
            graph[m] |= {t.split(".")[0] for t in targets if t and t.split(".")[0] in modules} - {m}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "pipeline" in graph["training"]  # `from .pipeline import make_dataset` inside train_model
    assert "integrity" in graph["data"]


def test_the_cycle_finder_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_fer_utils_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_low_modules_import_no_fer_utils_module_but_config():
    graph = import_graph()
    assert graph["config"] == set() and graph["runtime"] == set()
    assert graph["integrity"] <= {"config"}


def test_the_face_path_modules_stay_low():
    graph = import_graph()
    assert graph["images"] <= {"config"}  # the one place that prepares a face: no model, no dataset
    assert graph["detection"] <= {"config", "runtime"}
    assert "video" not in graph["prediction"] and "prediction" in graph["video"]


#: The layers of ARCHITECTURE.md's drawing, top to bottom; a module imports only from lower layers.
LAYERS = [
    {"course", "cli", "grading"},
    {"classroom"},
    {"report"},
    {"plots", "evaluation", "video"},
    {"prediction"},
    {"training", "calibration"},
    {"models", "detection"},
    {"protocol", "pipeline"},
    {"data"},
    {"integrity", "twins", "synthetic", "platforms"},
    {"images"},
    {"runlog", "runtime"},
    {"config"},
]


def test_every_import_points_down_the_drawn_layers():
    graph = import_graph()
    level = {m: i for i, layer in enumerate(LAYERS) for m in layer}
    assert set(level) == set(graph), "ARCHITECTURE.md's drawing and the package list different modules"
    upward = [f"{m} -> {t}" for m, targets in graph.items() for t in targets if level[t] <= level[m]]
    assert not upward, "imports that do not point down the layers: " + ", ".join(sorted(upward))
