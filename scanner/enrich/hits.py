"""The hits a report is built from: every match at every place of the sources' results that
becomes a finding's location, with its exposure. `pipeline.build_report` builds the findings from
these, and the verification step (verification.py) asks about the secrets of the very same
findings, so the two can never disagree on which secrets a report holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from scanner.detect.context import construct
from scanner.detect.slots import SLOT_VALIDATOR
from scanner.findings import Hit
from scanner.model import Exposure, Location, Provenance, Rule, SourceKind
from scanner.sources.base import Place, SourceResult, secret_id
from scanner.sources.filekinds import applies, not_own_settings, vendored_package, vendored_reason
from scanner.sources.walk import display_path

_EXPOSURE = {
    "history": Exposure.REPOSITORY,
    "message": Exposure.REPOSITORY,
    "staged": Exposure.REPOSITORY,
    "worktree": Exposure.REPOSITORY,
    "directory": Exposure.FILE,
    "unreachable": Exposure.UNREACHABLE,
    "bundle": Exposure.CLIENT_BUNDLE,  # build output read from disk (sources/bundles.py)
}


def _ships(rule_map: Mapping[str, Rule], rule_id: str, place: Place) -> bool:
    rule = rule_map.get(rule_id)
    return rule is None or applies(rule.contexts, place.path, place.bundle)


def reported_hits(results: Sequence[SourceResult], rule_map: Mapping[str, Rule]) -> list[Hit]:
    """Hits from every place (pragma-marked ones too: the suppress stage decides and counts)."""
    slot_rules = {r.id for r in rule_map.values() if r.validator == SLOT_VALIDATOR}  # detect/slots.py
    hits: list[Hit] = []
    for res in results:
        for found in res.founds:
            for place in found.places:
                source = SourceKind(place.source)
                path, path_bytes = display_path(place.path)
                exposure = (
                    Exposure.CLIENT_BUNDLE
                    if place.bundle
                    else Exposure.LOCAL_ONLY
                    if place.local_only
                    else _EXPOSURE[place.source]
                )
                for k, (m, pos) in enumerate(found.hits):
                    if m.exposure_text is not None and not _ships(rule_map, m.rule_id, place):
                        continue  # an exposure construct where it cannot ship (sources/filekinds.py)
                    if m.rule_id in slot_rules and not_own_settings(place.path):
                        continue  # a credential-sounding name in a lockfile, catalogue or vendor code
                    if m.secret is not None and m.alone is None and (pkg := vendored_package(place.path)):
                        m = replace(m, alone=vendored_reason(pkg))  # another package's key: low, says why
                    prov = res.provenance.get(secret_id(m), Provenance())
                    loc = Location(
                        source=source,
                        path=path,
                        position=pos,
                        path_bytes=path_bytes,
                        encoding=m.encoding,
                        commit=place.commit.hex() if place.commit else None,
                        blob=place.blob.hex() if place.blob else None,
                        commit_time=place.commit_time,
                        pragma=m.pragma,
                        pragma_added=m.pragma and k in place.pragmas_added,
                        client_bundle=exposure is Exposure.CLIENT_BUNDLE,
                        context=m.assigned or (construct(m.exposure_text) if m.exposure_text else None),
                        original=place.origins[k] if k < len(place.origins) else None,
                        at_head=place.at_head,
                    )
                    hits.append(Hit(match=m, location=loc, exposure=exposure, provenance=prov))
    return hits
