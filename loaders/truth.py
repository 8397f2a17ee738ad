"""Read a generated marketplace's ground truth, resolved to the keys its load produced.

``ground_truth/benign.csv`` names innocent structures by their identifiers as written in the
tables (a locker's address, a café's IP); the same normalisers the loader ran turn them into
store keys, and the loaded links turn keys into the accounts using them. Evaluation (CLI,
notebooks, benchmarks) calls this one reader, so none of them wires normalisers itself.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from graphfraud.model import GroundTruth
from loaders.normalise import NormaliseOptions, normalise


def read_ground_truth(
    folder: Path | str, links: pd.DataFrame, *, options: NormaliseOptions
) -> GroundTruth:
    """Planted rings and the accounts of every benign structure of a generated marketplace.

    Parameters
    ----------
    folder
        The marketplace folder (holding ``ground_truth/rings.csv`` and ``benign.csv``).
    links
        The loaded graph's links (``GraphStore.links()``).
    options
        As the load used them: card fingerprints and phone keys must come out the same.

    Returns
    -------
    GroundTruth
        Planted rings, and benign structures as the accounts linked to their identifiers.
    """
    truth = Path(folder) / "ground_truth"
    rings = pd.read_csv(truth / "rings.csv", dtype=str)
    # Files written before rings were marked camouflaged say nothing of it.
    if "camouflaged" not in rings:
        rings["camouflaged"] = "0"
    rings = rings[["ring_id", "typology", "account_id", "camouflaged"]].assign(
        camouflaged=lambda frame: frame["camouflaged"] == "1"
    )
    raw = pd.read_csv(truth / "benign.csv", dtype=str)
    keys = pd.concat(
        [
            normalise(str(kind), group["identifier"], options).values
            for kind, group in raw.groupby("identifier_kind")
        ]
        or [pd.Series(dtype=str)]
    )
    structures = raw.assign(dst_key=keys.reindex(raw.index)).dropna(subset=["dst_key"])
    uses = links[["src_key", "dst_kind", "dst_key"]].merge(
        structures.rename(columns={"identifier_kind": "dst_kind"}), on=["dst_kind", "dst_key"]
    )
    benign = uses.rename(columns={"src_key": "account_id"})[
        ["structure_id", "kind", "account_id"]
    ].drop_duplicates()
    return GroundTruth(rings=rings, benign=benign.reset_index(drop=True))
