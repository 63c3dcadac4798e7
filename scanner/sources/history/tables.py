"""What a full sweep learnt of the object database, shared by its reading, provenance and cache."""

from __future__ import annotations

from dataclasses import dataclass, field

from scanner.git.objects import CommitMeta, TagMeta
from scanner.git.packs import Listing
from scanner.sources.base import Hits


@dataclass(slots=True)
class Tables:
    commits: dict[bytes, CommitMeta] = field(default_factory=dict)
    commit_hits: dict[bytes, Hits] = field(default_factory=dict)  # commits whose message matched
    tags: dict[bytes, TagMeta] = field(default_factory=dict)
    tag_hits: dict[bytes, Hits] = field(default_factory=dict)
    matched: dict[bytes, Hits] = field(default_factory=dict)  # blob id -> its matches
    holds: dict[bytes, frozenset[str]] = field(default_factory=dict)  # blob id -> secrets it holds
    unreadable: set[bytes] = field(default_factory=set)  # blobs missing, corrupt or not read
    known_blobs: set[bytes] = field(default_factory=set)
    known_trees: set[bytes] = field(default_factory=set)
    unread_trees: set[bytes] = field(default_factory=set)
    closure: set[bytes] = field(default_factory=set)  # trees that lead to an interesting id
    listing: Listing = field(default_factory=Listing)
    exact: bool = True  # every tree entry was checked for a missing object
    shallow: frozenset[bytes] = frozenset()
    gen: dict[bytes, int] = field(default_factory=dict)  # generation numbers
