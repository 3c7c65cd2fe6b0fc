"""The shape of the package, read from its source (ast): no import circles, nothing private
imported across modules, sub-packages reached through their faces, and an edge runtime that
never imports TensorFlow or Keras. The rules are those of docs/architecture.md."""

from __future__ import annotations

import ast
import os

import pytest

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "periodic_keras")
PACKAGE = "periodic_keras"
#: Third-party packages the edge runtime may import (anything else would be a device dependency).
EDGE_ALLOWED = {"numpy", "ai_edge_litert", "tflite_micro"}
#: Imports that are never allowed in the edge runtime's reach.
EDGE_FORBIDDEN = {"tensorflow", "keras", "tf_keras", "tensorflow_datasets"}


def _modules(root=ROOT) -> dict:
    """``{dotted module name: (path, is_package_face)}`` for every ``.py`` file of the package."""
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                parts = [PACKAGE, *os.path.relpath(path, root)[:-3].split(os.sep)]
                face = parts[-1] == "__init__"
                out[".".join(parts[:-1] if face else parts)] = (path, face)
    return out


class Import:
    """One imported thing: ``module`` (a module of the package, or an outside top-level name),
    ``name`` (a name taken from it, or None), where it happened and whether at module level."""

    def __init__(self, module, name, line, top):
        self.module, self.name, self.line, self.top = module, name, line, top


def _imports(module: str, path: str, face: bool, modules: dict) -> list:
    """Every import in ``path``, at any depth, resolved against ``modules``: ``from P import x``
    where ``P.x`` is a module becomes an import of ``P.x``. Attribute reads like ``mod._x`` on a
    name bound to a package module count as taking the name ``_x``."""
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    package = module if face else module.rpartition(".")[0]
    out, bound = [], {}
    top_level = {id(n) for n in tree.body}
    top_level |= {id(n) for stmt in tree.body if isinstance(stmt, ast.If) for n in stmt.body}  # TYPE_CHECKING etc.

    def add(target, name, node):
        out.append(Import(target, name, node.lineno, id(node) in top_level))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name if alias.name in modules else alias.name.split(".")[0], None, node)
                if alias.name in modules:
                    bound[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else PACKAGE
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            if source not in modules and not source.startswith(PACKAGE + "."):
                add(source.split(".")[0], None, node)
                continue
            for alias in node.names:
                if f"{source}.{alias.name}" in modules:
                    add(f"{source}.{alias.name}", None, node)
                    bound[alias.asname or alias.name] = f"{source}.{alias.name}"
                else:
                    add(source, alias.name, node)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound:
            if node.attr.startswith("_") and not node.attr.startswith("__"):
                out.append(Import(bound[node.value.id], node.attr, node.lineno, False))
    return out


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _subpackage(module: str, faces: set) -> str | None:
    """The sub-package (a face's dotted name) ``module`` lives in, or None on the ground floor."""
    parts = module.split(".")
    for i in range(len(parts), 1, -1):
        candidate = ".".join(parts[:i])
        if candidate in faces and candidate != PACKAGE:
            return candidate
    return None


def _face_exports(path: str) -> set:
    """Names in a face's ``__all__``."""
    for node in ast.parse(open(path, encoding="utf-8").read()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


@pytest.fixture(scope="module")
def package():
    modules = _modules()
    graph = {m: _imports(m, path, face, modules) for m, (path, face) in modules.items()}
    return modules, graph


def _cycles(graph: dict, modules: dict) -> list:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    edges = {m: sorted({i.module for i in imps if i.module in modules and i.module != m}) for m, imps in graph.items()}
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circles(package):
    modules, graph = package
    assert _cycles(graph, modules) == []


def test_the_checker_sees_a_circle_and_a_private_import(tmp_path):
    """The rules are not vacuous: a planted circle and a planted private import are found."""
    root = tmp_path / PACKAGE
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "a.py").write_text("def f():\n    from periodic_keras import b\n")
    (root / "b.py").write_text("from periodic_keras.a import f\nfrom periodic_keras.sub import helper\n")
    (root / "sub" / "__init__.py").write_text("__all__ = []\n")
    (root / "sub" / "helper.py").write_text("def _x():\n    pass\n")
    (root / "c.py").write_text("from periodic_keras.sub.helper import _x\n")
    modules = _modules(str(root))
    graph = {m: _imports(m, path, face, modules) for m, (path, face) in modules.items()}
    assert _cycles(graph, modules) == [["periodic_keras.a", "periodic_keras.b"]]
    assert [(i.module, i.name) for i in graph["periodic_keras.c"]] == [("periodic_keras.sub.helper", "_x")]


def test_nothing_private_crosses_modules(package):
    """No ``from m import _x`` / ``m._x`` across modules; a private module (``_m.py``) is
    imported only by its own package."""
    modules, graph = package
    bad = []
    for m, imps in graph.items():
        for imp in imps:
            if imp.module not in modules or imp.module == m:
                continue
            if imp.name and _private(imp.name):
                bad.append(f"{modules[m][0]}:{imp.line}: {imp.module}.{imp.name}")
            leaf = imp.module.rpartition(".")
            if _private(leaf[2]) and not (m == leaf[0] or m.startswith(leaf[0] + ".")):
                bad.append(f"{modules[m][0]}:{imp.line}: private module {imp.module}")
    assert not bad, "\n".join(bad)


def test_subpackages_are_reached_through_their_faces(package):
    """Outside a sub-package, only its face (``__init__.py``) and what the face's ``__all__``
    lists (names, or a submodule it chooses to expose) are imported."""
    modules, graph = package
    faces = {m for m, (_, face) in modules.items() if face}
    exports = {f: _face_exports(modules[f][0]) for f in faces}
    bad = []
    for m, imps in graph.items():
        home = _subpackage(m, faces)
        for imp in imps:
            if imp.module not in modules:
                continue
            target = _subpackage(imp.module, faces)
            if target is None or target == home or (home or "").startswith(target + "."):
                continue  # the ground floor, or inside its own package
            if imp.module == target:
                if imp.name is not None and imp.name not in exports[target]:
                    bad.append(f"{modules[m][0]}:{imp.line}: {target} does not export {imp.name}")
            elif not (imp.module.rpartition(".")[0] == target and imp.module.rpartition(".")[2] in exports[target]):
                bad.append(f"{modules[m][0]}:{imp.line}: {imp.module} (import it from {target})")
    assert not bad, "\n".join(bad)


def test_faces_only_re_export(package):
    """A sub-package's ``__init__.py`` holds a docstring, imports and ``__all__``, and every
    name in ``__all__`` is imported there."""
    modules, _ = package
    bad = []
    for m, (path, face) in modules.items():
        if not face or m == PACKAGE:
            continue
        tree = ast.parse(open(path, encoding="utf-8").read())
        imported = set()
        for i, node in enumerate(tree.body):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imported |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
                continue
            elif not (i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
                bad.append(f"{path}:{node.lineno}: {type(node).__name__} in a face")
        bad += [f"{path}: __all__ lists {n}, which it does not import" for n in _face_exports(path) - imported]
    assert not bad, "\n".join(bad)


#: The floors, lowest first: a module imports only from its own floor or lower ones.
FLOORS = [("errors", "_io", "signals", "units", "generation", "targets", "runs"), ("classical",), ("edge",), ("data",),
          ("layers",), ("models",), ("training",), ("export",), ("forecasting",), ("jobs",), ("cli", "__main__")]


def _floor(module: str) -> int:
    part = module.split(".")[1] if "." in module else ""
    for level, names in enumerate(FLOORS):
        if part in names:
            return level
    raise AssertionError(f"{module} is on no floor of FLOORS: add its package there")


def test_lower_floors_never_import_higher_ones(package):
    modules, graph = package
    bad = [f"{modules[m][0]}:{i.line}: {m} (floor {_floor(m)}) imports {i.module} (floor {_floor(i.module)})"
           for m, imps in graph.items() if m != PACKAGE for i in imps
           if i.module in modules and i.module != PACKAGE and _floor(i.module) > _floor(m)]
    assert not bad, "\n".join(bad)


def test_edge_never_reaches_tensorflow_or_keras(package):
    """Everything ``periodic_keras.edge`` can import, at any depth and also inside functions,
    imports only NumPy, LiteRT, tflite-micro and the standard library from outside."""
    modules, graph = package
    seen, todo = set(), ["periodic_keras.edge"]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo += [i.module for i in graph[m] if i.module in modules]
    outside = {(i.module, m) for m in seen for i in graph[m] if i.module not in modules}
    forbidden = sorted(f"{m} imports {name}" for name, m in outside if name in EDGE_FORBIDDEN)
    assert forbidden == []
    import sys

    third_party = {name for name, _ in outside if name not in sys.stdlib_module_names and name != "__future__"}
    assert third_party <= EDGE_ALLOWED | {"pandas"}, third_party - EDGE_ALLOWED
    assert "periodic_keras.classical" in seen  # the trust flags: reached, so checked too


def test_edge_modules_import_only_numpy_at_module_level(package):
    """The edge runtime and what it reaches import no third-party package but NumPy when
    loaded (pandas only inside functions that build tables; LiteRT and TFLM when a model opens)."""
    modules, graph = package
    import sys

    seen, todo = set(), ["periodic_keras.edge"]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += [i.module for i in graph[m] if i.module in modules and i.top]
    loaded = {(i.module, m) for m in seen for i in graph[m] if i.module not in modules and i.top}
    assert {(n, m) for n, m in loaded if n not in sys.stdlib_module_names and n not in ("__future__", "numpy")} == set()
