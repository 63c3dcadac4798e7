"""The package's shape: no import cycle between scanner's modules (import-linter, run by `make test`,
checks the layers; a cycle inside one layer would slip past it)."""

from __future__ import annotations

import grimp


def test_no_import_cycle_between_modules() -> None:
    graph = grimp.build_graph("scanner")
    cycles = [
        (importer, imported)
        for importer in sorted(graph.modules)
        for imported in sorted(graph.find_modules_directly_imported_by(importer))
        if imported.startswith("scanner") and graph.chain_exists(importer=imported, imported=importer)
    ]
    assert not cycles, cycles


def test_the_cycle_check_can_fail() -> None:
    graph = grimp.build_graph("scanner")
    graph.add_import(importer="scanner.model", imported="scanner.cli")  # a climb back up
    assert graph.chain_exists(importer="scanner.cli", imported="scanner.model")
    assert graph.chain_exists(importer="scanner.model", imported="scanner.cli")
