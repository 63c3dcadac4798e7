"""keysweep on a slice of the labelled corpus: real package files, planted keys, decoys.

Needs the corpus cache (`python tests/corpus/fetch.py`, or $KEYSWEEP_CORPUS_CACHE); skipped
without it. The full comparison with the peers is bench/corpus_score.py.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
SLICE = ["python-dotenv", "groq", "groq-sdk", "requests", "axios", "langchain-core"]
SEED = 7
PER_ROW = 2


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


build = _load("keysweep_corpus_build", ROOT / "tests" / "corpus" / "build.py")
score = _load("keysweep_corpus_score", ROOT / "bench" / "corpus_score.py")


def _slice_packages() -> list[object]:
    pkgs = [p for p in build.load_packages() if p.name in SLICE]
    assert len(pkgs) == len(SLICE), "slice names out of date with tests/corpus/packages.txt"
    return pkgs


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    cache = build.cache_dir()
    missing = [p.name for p in _slice_packages() if build.unpacked(p, cache) is None]
    if missing:
        pytest.skip(
            f"corpus cache absent ({', '.join(missing)} not in {cache}): run `python tests/corpus/fetch.py`"
        )
    if not build.KEY_FORMATS.is_file():
        pytest.skip("tests/data/key-formats.csv absent")
    out = tmp_path_factory.mktemp("corpus")
    labels = build.build(out, SEED, PER_ROW, _slice_packages(), cache, build.load_formats())
    return out, labels


@pytest.fixture(scope="module")
def keysweep_scored(
    corpus: tuple[Path, dict[str, object]],
) -> tuple[object, dict[str, object], dict[str, object]]:
    out, labels = corpus
    report = out / "keysweep.json"
    cmd = [
        sys.executable,
        "-m",
        "scanner",
        "scan",
        str(out / "tree"),
        "--json",
        str(report),
        "--fail-on",
        "none",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(report.read_text())
    hits = score.parse("keysweep", report, out / "tree")
    return score.score(hits, labels, score.load_triage()), labels, data


def test_slice_was_built_and_scanned(
    keysweep_scored: tuple[object, dict[str, object], dict[str, object]],
) -> None:
    _, labels, data = keysweep_scored
    planted = labels["planted"]
    assert isinstance(planted, list) and len(planted) > 100
    assert not labels["unplaced"]
    assert data["status"] == "ok"
    assert data["stats"]["files"] > 1000


def test_recall_on_planted_keys(keysweep_scored: tuple[object, dict[str, object], dict[str, object]]) -> None:
    s, labels, _ = keysweep_scored
    planted = labels["planted"]
    assert isinstance(planted, list)
    missed = [f"{p['rule_id']} ({p['context']})" for i, p in enumerate(planted) if i not in s.found]  # type: ignore[attr-defined]
    recall = 1 - len(missed) / len(planted)
    assert recall >= 0.95, f"recall {recall:.3f}; missed: {missed}"


def test_no_findings_on_decoys(keysweep_scored: tuple[object, dict[str, object], dict[str, object]]) -> None:
    s, _, _ = keysweep_scored
    hits = [f"{h.rule} {h.path}:{h.line}" for h in s.decoy_hits]  # type: ignore[attr-defined]
    assert not hits, f"findings on decoy files: {hits}"


def test_every_finding_is_planted_or_triaged(
    keysweep_scored: tuple[object, dict[str, object], dict[str, object]],
) -> None:
    s, _, _ = keysweep_scored
    stray = [f"{h.rule} {h.path}:{h.line}" for h in s.unknown]  # type: ignore[attr-defined]
    assert not stray, f"findings that are neither planted nor in tests/corpus/triage.json: {stray}"
