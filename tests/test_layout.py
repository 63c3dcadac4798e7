"""The tests' own shape: test modules sit in folders that mirror the package
(`tests/sources/history/test_cache.py` tests `scanner/sources/history/`), share what they share
through support modules (`tests/keys.py`, `tests/repo_builder.py`, `tests/factories.py`, …) and
never import from one another, nor a `_private` name from any tests module."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.paths import ROOT, TESTS


def suite_modules() -> list[Path]:
    return sorted(TESTS.rglob("test_*.py"))


def _is_test_module(dotted: str) -> bool:
    return any(part.startswith("test_") for part in dotted.split("."))


def import_problems(where: str, tree: ast.Module) -> list[str]:
    """Each import in `tree` of a test module, or of a `_private` name from a tests module."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                f"{where}:{node.lineno} imports {a.name}"
                for a in node.names
                if a.name.startswith("tests.") and _is_test_module(a.name)
            ]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if not (node.level or module == "tests" or module.startswith("tests.")):
                continue
            if _is_test_module(module):
                found.append(f"{where}:{node.lineno} imports from the test module {module}")
                continue
            found += [
                f"{where}:{node.lineno} imports {a.name} from {module or '.'}"
                for a in node.names
                if a.name.startswith(("test_", "_"))
            ]
    return found


def test_no_test_module_imports_another_or_a_private_name() -> None:
    modules = [*suite_modules(), *(p for p in TESTS.rglob("*.py") if not p.name.startswith("test_"))]
    problems = [
        problem
        for path in modules
        for problem in import_problems(str(path.relative_to(ROOT)), ast.parse(path.read_text()))
    ]
    assert not problems, "\n".join(problems)


def test_the_import_check_can_fail() -> None:
    tree = ast.parse(
        "from tests.output.test_sarif import run\n"
        "from tests.keys import _private\n"
        "import tests.test_cli\n"
        "from tests import test_cli\n"
        "def f():\n    from .test_x import y\n"
        "from tests.keys import make_key\n"  # the one allowed: a public name of a support module
    )
    assert len(import_problems("x.py", tree)) == 5


def test_test_folders_mirror_the_package_and_are_packages() -> None:
    """Each folder of test modules is named after a part of scanner/ (a package or a module:
    tests/sources/bundles/ tests scanner/sources/bundles.py) and is a package, so pytest imports
    `tests.output.test_json` and `tests.state.test_json` as two modules."""
    folders = {path.parent for path in suite_modules()} - {TESTS}
    assert folders
    for folder in sorted(folders):
        part = ROOT / "scanner" / folder.relative_to(TESTS)
        assert part.is_dir() or part.with_suffix(".py").is_file(), f"{folder} mirrors nothing in scanner/"
        for d in (folder, *folder.parents):
            if d == TESTS:
                break
            assert (d / "__init__.py").is_file(), f"{d} has no __init__.py"
