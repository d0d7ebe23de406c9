"""Rules of the code itself: no module imports another's private helpers, and the submission services
form no import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCES = [REPO / "platform" / "arena", REPO / "scorers", REPO / "sandboxes"]


def _module_name(path: Path) -> str:
    root = REPO / "platform" if path.is_relative_to(REPO / "platform") else REPO
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(imported module, imported names) of every import in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
    return found


def test_no_module_imports_another_modules_private_names():
    offences = []
    for source in SOURCES:
        for path in source.rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for module, names in _imports(path):
                private = [n for n in names if n.startswith("_") and not n.startswith("__")]
                if private and module != _module_name(path):
                    offences.append(f"{path.relative_to(REPO)}: from {module} import {', '.join(private)}")
    assert offences == []


def test_the_submission_services_form_no_import_cycle():
    package = REPO / "platform" / "arena" / "submissions" / "services"
    modules = {_module_name(p): p for p in package.glob("*.py")}
    graph = {name: {m for m, _ in _imports(path) if m in modules} | {
        f"{m}.{n}" for m, names in _imports(path) for n in names if f"{m}.{n}" in modules}
        for name, path in modules.items()}
    visiting, done, cycles = set(), set(), []

    def visit(node: str, trail: list[str]) -> None:
        if node in visiting:
            cycles.append(" -> ".join(trail[trail.index(node):] + [node]))
            return
        if node in done:
            return
        visiting.add(node)
        for target in sorted(graph[node]):
            visit(target, trail + [node])
        visiting.discard(node)
        done.add(node)

    for name in sorted(graph):
        visit(name, [])
    assert cycles == []
    assert not any("arena.submissions.tasks" in {m for m, _ in _imports(p)} for p in modules.values())
