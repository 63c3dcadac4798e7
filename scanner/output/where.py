"""Where a finding sits, in words: one phrase for the console and the SARIF message."""

from __future__ import annotations

from typing import assert_never

from scanner.model import Exposure, Finding, Location, SourceKind

_UNCOMMITTED = frozenset({SourceKind.WORKTREE, SourceKind.STAGED})


def where(finding: Finding) -> str:
    """The exposure, told by the kinds of places that hold the secret (a finding whose places are
    all staged or all in the working tree, and that no commit holds, is not "committed")."""
    sources = {loc.source for loc in finding.locations}
    committed = finding.present_at_head is True or finding.first_seen is not None
    match finding.exposure:
        case Exposure.REPOSITORY:
            if committed or not sources:
                return "committed to the repository"
            if sources <= {SourceKind.WORKTREE}:
                return "in the working tree, not committed (a modified or untracked file)"
            if sources <= _UNCOMMITTED:
                return "staged in the index, not committed yet"
            return "committed to the repository"
        case Exposure.CLIENT_BUNDLE:
            return "shipped in a client-side bundle, readable by anyone who loads the page"
        case Exposure.LOCAL_ONLY:
            return "in a local file that is not committed"
        case Exposure.UNREACHABLE:
            return "in an unreachable git object, still in the repository's object store"
        case Exposure.FILE:
            return "in a file (not in a git repository)"
        case _:
            assert_never(finding.exposure)


def bundle_kind(location: Location) -> str:
    """A client-bundle location's kind: `build-output` (read from disk, not tracked: code scanning
    cannot show it) or `tracked` (a committed bundle, shown at its own position)."""
    return "build-output" if location.source is SourceKind.BUNDLE else "tracked"


def build_output(finding: Finding) -> bool:
    """The finding's first location is a bundle as built, which no commit holds."""
    return bool(finding.locations) and finding.locations[0].source is SourceKind.BUNDLE


def message_of(location: Location) -> str | None:
    """`commit` or `tag` when the location is in a commit's or a tag's message (its path is then
    `commit:<id>` or `tag:<name>`, no file of any tree: a link to it must name the commit, not a
    blob); None for a location in a file."""
    if location.blob is not None or location.source not in (SourceKind.MESSAGE, SourceKind.UNREACHABLE):
        return None
    kind = location.path.partition(":")[0]
    return kind if kind in ("commit", "tag") else None
