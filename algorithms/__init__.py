"""Ring discovery: from the entity graph to scored, explained, stably named rings.

The stages, each usable on its own with frames in and frames out:

- :func:`project_accounts` - account-account ties through shared identifiers (rarity-weighted)
  and direct links, leaving out hubs decided by the data (:func:`decide_hubs`);
- :func:`connected_components`, :func:`split_communities` - candidates, split by Leiden,
  pieces of one ring merged back (:func:`merge_entangled`, :func:`merge_dominating`) but never
  past the largest ring size, parts too large, weak or chained split again;
- :func:`ring_centrality` - PageRank, degree, betweenness inside each ring;
- :func:`ring_signals`, :func:`score_rings` - named, additive score contributions, structure
  measured against a null model of the graph's own households;
- :func:`classify_ring` - typology with reasons;
- :func:`assign_ring_ids` - stable ids across re-runs;
- :func:`detect_rings` (a store) / :func:`find_rings` (frames) - all of it, timed;
- :mod:`algorithms.evaluation` - measured against planted ground truth and baselines.
"""

from algorithms.centrality import ring_centrality
from algorithms.communities import (
    attach_dominated,
    merge_dominating,
    merge_entangled,
    split_communities,
)
from algorithms.components import connected_components, peel_pendants, strong_edges
from algorithms.engines import ENGINES, Engine
from algorithms.hubs import decide_hubs, spelling_stems
from algorithms.pipeline import STAGES, DetectionResult, detect_rings, find_rings
from algorithms.projection import Projection, project_accounts, rarity
from algorithms.scoring import CONTRIBUTIONS, ring_signals, score_rings
from algorithms.stable_ids import assign_ring_ids, match_rings
from algorithms.typology import TYPOLOGIES, classify_ring

__all__ = [
    "CONTRIBUTIONS",
    "ENGINES",
    "STAGES",
    "TYPOLOGIES",
    "DetectionResult",
    "Engine",
    "Projection",
    "assign_ring_ids",
    "attach_dominated",
    "classify_ring",
    "connected_components",
    "decide_hubs",
    "detect_rings",
    "find_rings",
    "match_rings",
    "merge_dominating",
    "merge_entangled",
    "peel_pendants",
    "project_accounts",
    "rarity",
    "ring_centrality",
    "ring_signals",
    "score_rings",
    "spelling_stems",
    "split_communities",
    "strong_edges",
]
