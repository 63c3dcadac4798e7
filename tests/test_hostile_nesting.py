"""Issue 19.6: a file nested 100,000 levels deep costs its own finding or its own error, never the
scan: a map in history is read as text (its key still found, no origin), a config or a baseline
is exit 2 naming the file — never exit 3 with an internal error (RecursionError)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pygit2

from scanner.cli import main
from tests.keys import make_key
from tests.repo_builder import RepoBuilder

DEPTH = 100_000


def _run(*argv: str) -> tuple[int, dict[str, Any] | None, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["scan", *argv, "--jobs", "1", "--json", "-"])
    text = out.getvalue()
    return code, (json.loads(text) if text else None), err.getvalue()


def _deep(open_: str, close: str) -> str:
    return open_ * DEPTH + close * DEPTH


def test_a_deep_map_in_history_costs_no_more_than_its_origin(tmp_path: Path) -> None:
    in_map, in_bundle = make_key("openai.project-key", 601), make_key("openai.project-key", 602)
    content = json.dumps([f'const k = "{in_map}";'])
    doc = f'{{"version":3,"sources":["src/a.js"],"sourcesContent":{content},"mappings":"AAAA","x":{_deep("[", "]")}}}'
    b = RepoBuilder(tmp_path / "r")
    b.commit({"README": b"hi\n"})
    b.commit(
        {
            "dist/app.js.map": doc.encode(),
            "dist/app.js": f"x='{in_bundle}';\n//# sourceMappingURL=app.js.map\n".encode(),
        }
    )
    for mode in ([], ["--no-history"]):
        code, report, err = _run(str(b.path), *mode)
        assert code == 1, err
        assert report is not None and report["status"] == "ok"
        paths = sorted(loc["path"] for f in report["findings"] for loc in f["locations"])
        assert paths == ["dist/app.js", "dist/app.js.map"]


def test_a_deep_config_is_exit_2_naming_the_file(tmp_path: Path) -> None:
    pygit2.init_repository(str(tmp_path), initial_head="main")
    for body in ("x = " + _deep("[", "]"), "x = " + _deep("{a=", "}")[: 3 * 5000] + "1" + "}" * 5000):
        (tmp_path / ".keysweep.toml").write_text(body + "\n")
        code, _report, err = _run(str(tmp_path))
        assert code == 2, err
        assert ".keysweep.toml" in err and "nested too deeply" in err
        assert "internal error" not in err


def test_a_deep_baseline_is_exit_2_naming_the_file(tmp_path: Path) -> None:
    pygit2.init_repository(str(tmp_path / "r"), initial_head="main")
    base = tmp_path / "base.json"
    base.write_text(_deep("[", "]"))
    code, _report, err = _run(str(tmp_path / "r"), "--baseline", str(base))
    assert code == 2, err
    assert "base.json" in err and "nested too deeply" in err
