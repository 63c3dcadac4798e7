"""A git repository whose commits are dated by the caller: ages and windows exact to the day."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime
from pathlib import Path


class Git:
    """A repository whose commits are dated by the caller (GIT_AUTHOR_DATE/GIT_COMMITTER_DATE)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir()
        self.run("init", "-q", "-b", "main")

    def run(self, *args: str, when: datetime | None = None) -> str:
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Ada",
            "GIT_AUTHOR_EMAIL": "ada@example.invalid",
            "GIT_COMMITTER_NAME": "Ada",
            "GIT_COMMITTER_EMAIL": "ada@example.invalid",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        if when is not None:
            stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            env |= {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=env, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    def commit(self, when: datetime, files: dict[str, str | None], message: str = "change") -> str:
        """Write (or, for None, delete) `files` and commit them at `when`; the new commit's id."""
        for name, text in files.items():
            target = self.path / name
            if text is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self.run("add", "-A")
        self.run("commit", "-q", "--allow-empty", "-m", message, when=when)
        return self.run("rev-parse", "HEAD")
