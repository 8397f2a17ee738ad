"""Stable ring ids: a re-run keeps a ring's id when its membership mostly persists.

New rings are matched one-to-one to the stored ones by best overlap (Jaccard of member sets,
greatest first); a match at or above the threshold inherits the stored id, and with it the
investigator's status and note. Unmatched rings get an id derived from their members, so the
same membership always gets the same id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd


def membership_frame(rings: Sequence[Sequence[str]]) -> pd.DataFrame:
    """Long form of ring memberships: one ``(ring, account)`` row per member."""
    sizes = [len(members) for members in rings]
    return pd.DataFrame(
        {
            "ring": np.repeat(np.arange(len(rings)), sizes),
            "account": [account for members in rings for account in members],
        }
    )


def match_rings(
    new: Sequence[Sequence[str]],
    old: Sequence[Sequence[str]],
    *,
    min_jaccard: float,
) -> pd.DataFrame:
    """Pair new rings with old ones by best overlap, one-to-one.

    Parameters
    ----------
    new, old
        Member account ids of each new and each old ring.
    min_jaccard
        Smallest Jaccard similarity of two member sets that still counts as the same ring.

    Returns
    -------
    pandas.DataFrame
        Columns ``new``, ``old`` (positions in the inputs) and ``jaccard``, best matches first.

    Examples
    --------
    >>> match_rings([["a", "b", "c"], ["x", "y"]], [["x", "y", "z"], ["a", "b"]], min_jaccard=0.5)
       new  old   jaccard
    0    0    1  0.666667
    1    1    0  0.666667
    """
    left = membership_frame(new).drop_duplicates()
    right = membership_frame(old).drop_duplicates()
    shared = left.merge(right, on="account", suffixes=("_new", "_old"))
    pairs = shared.groupby(["ring_new", "ring_old"], sort=False).size().reset_index(name="inter")
    new_size = left.groupby("ring").size()
    old_size = right.groupby("ring").size()
    union = (
        new_size.reindex(pairs["ring_new"]).to_numpy()
        + old_size.reindex(pairs["ring_old"]).to_numpy()
        - pairs["inter"].to_numpy()
    )
    pairs["jaccard"] = pairs["inter"].to_numpy() / union
    close = pairs[pairs["jaccard"] >= min_jaccard].sort_values(
        ["jaccard", "ring_new", "ring_old"], ascending=[False, True, True], kind="stable"
    )
    taken_new: set[int] = set()
    taken_old: set[int] = set()
    rows = []
    # Greedy in order of overlap: the closest pairs claim each other first.
    for ring_new, ring_old, jaccard in close[["ring_new", "ring_old", "jaccard"]].itertuples(
        index=False
    ):
        if ring_new in taken_new or ring_old in taken_old:
            continue
        taken_new.add(ring_new)
        taken_old.add(ring_old)
        rows.append((int(ring_new), int(ring_old), float(jaccard)))
    return pd.DataFrame(rows, columns=["new", "old", "jaccard"]).astype(
        {"new": "int64", "old": "int64", "jaccard": "float64"}
    )


def membership_id(members: Sequence[str]) -> str:
    """An id derived from a ring's member set: ``R-`` and ten hex digits.

    Examples
    --------
    >>> membership_id(["b", "a"]) == membership_id(["a", "b"])
    True
    """
    digest = hashlib.sha1("\n".join(sorted(set(members))).encode(), usedforsecurity=False)
    return "R-" + digest.hexdigest()[:10]


def assign_ring_ids(
    new: Sequence[Sequence[str]],
    previous: dict[str, Sequence[str]],
    *,
    min_jaccard: float,
) -> list[str]:
    """Ids for ``new`` rings: a matched stored ring's id, else one derived from the members.

    Parameters
    ----------
    new
        Member account ids of each new ring.
    previous
        Stored rings: id → member account ids.
    min_jaccard
        Overlap needed to inherit a stored id.

    Returns
    -------
    list[str]
        One unique id per new ring, in the order of ``new``.

    Examples
    --------
    >>> assign_ring_ids([["a", "b", "c", "d"]], {"R-old": ["a", "b", "c"]}, min_jaccard=0.5)
    ['R-old']
    """
    old_ids = list(previous)
    matches = match_rings(new, [previous[i] for i in old_ids], min_jaccard=min_jaccard)
    ids: list[str | None] = [None] * len(new)
    for ring_new, ring_old in matches[["new", "old"]].itertuples(index=False):
        ids[ring_new] = old_ids[ring_old]
    used = set(old_ids)
    out = []
    for members, ring_id in zip(new, ids, strict=True):
        if ring_id is None:
            # A derived id already held by another (unmatched) stored ring would merge the two
            # rings' histories; a numbered suffix keeps them apart.
            base = candidate = membership_id(members)
            suffix = 1
            while candidate in used:
                suffix += 1
                candidate = f"{base}-{suffix}"
            ring_id = candidate
        used.add(ring_id)
        out.append(ring_id)
    return out
