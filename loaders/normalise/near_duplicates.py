"""Near-duplicate identifiers: keys the rules did not fold but that name one thing.

A typo (``jl sudirmn``), two words swapped, a word left out: the same address or email typed
differently beyond what rules can fold. :func:`resolve_near_duplicates` pairs such keys and
says, for every key, which key it becomes (``canonical``) and how alike they are (``score``),
so a merge can be explained: which raw values became one node, and why.

How
    1. **Blocking.** Keys are compared only within a block, so the work grows with the number
       of keys, not its square. Every word holding a digit (house number, unit, RT/RW,
       postcode; the digits of an email's local part) must be the same in both keys: two
       addresses differing in a number are different places however alike the words, so a
       typo may only touch words without digits. Addresses are blocked on those words;
       emails on their domain, the local part's digits and its first letter, and names on
       their first letter and word count. Blocks larger than ``max_block`` keys are not
       compared (a street everybody writes alike is a hub, not a typo).
    2. **Scoring.** The pairs of a block are scored by ``rapidfuzz`` in C++, all at once:
       addresses and names by ``token_sort_ratio`` (word order ignored, then Indel
       similarity), emails by the Indel similarity of their local parts. A score is 0 to 1.
    3. **Clustering.** Pairs at or above ``threshold`` join keys into groups (connected
       components). The canonical key of a group is its most used key (``counts``), else its
       shortest; a key less alike the canonical one than ``threshold`` stays on its own, so a
       chain of small differences never joins two distant keys.

Why rapidfuzz with blocking rather than splink (measured with ``benchmarks/folding.py``'s
variants, Indonesian export, 5,000 and 20,000 accounts, seeds 1 and 2): splink 5.0 on DuckDB,
blocked the same way, could not train its model on one identifier column (expectation
maximisation left its m and u values untrained and it predicted no pair); with m and u set by
hand it found pairs at precision 1.00 but recall 0.54 and 0.53, since Jaro-Winkler misses
swapped and dropped words. rapidfuzz here: precision 0.999 and 0.981, recall 0.980 and 0.975,
in 0.6 and 1.8 s. Splink weighs several columns of a record against each other; a single
identifier has nothing to weigh, and a similarity threshold says the same more plainly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from graphfraud.errors import ConfigError
from graphfraud.model import EntityKind
from loaders.normalise.common import TEXT

__all__ = ["NEAR_DUPLICATE_COLUMNS", "NearDuplicateRule", "resolve_near_duplicates"]

NEAR_DUPLICATE_COLUMNS = ("key", "canonical", "score")


@dataclass(frozen=True)
class NearDuplicateRule:
    """How one kind's keys are blocked and compared."""

    #: Scores at or above this join two keys (0 to 1).
    threshold: float
    #: Pairs only keys whose blocks are equal.
    block: str
    #: What is compared: the whole key, or an email's local part.
    compared: str


#: Thresholds chosen on generated variants (seeds 1-3; reported on 4-6 in the benchmark):
#: addresses at 0.88 kept precision at or above 0.98 there; emails and names, where a letter
#: more or less is often another person, ask for more.
RULES: dict[str, NearDuplicateRule] = {
    EntityKind.ADDRESS: NearDuplicateRule(threshold=0.88, block="digit_words", compared="key"),
    EntityKind.EMAIL: NearDuplicateRule(threshold=0.9, block="email", compared="local"),
    EntityKind.NAME: NearDuplicateRule(threshold=0.9, block="name", compared="key"),
}


def resolve_near_duplicates(
    kind: str,
    keys: pd.Series,
    *,
    counts: pd.Series | None = None,
    threshold: float | None = None,
    max_block: int = 200,
) -> pd.DataFrame:
    """Which normalised keys are one entity, with the score that says so.

    Parameters
    ----------
    kind : str
        ``Address``, ``Email`` or ``Name``.
    keys : pandas.Series
        Normalised keys (missing ones are left out; repeats count once).
    counts : pandas.Series, optional
        How often each key is used, aligned with ``keys``: the most used key of a group is
        its canonical one.
    threshold : float, optional
        Similarity (0 to 1) from which two keys are one; default the kind's in :data:`RULES`.
    max_block : int, optional
        Blocks with more keys are not compared.

    Returns
    -------
    pandas.DataFrame
        One row per distinct key: ``key``, ``canonical`` (itself where nothing matched) and
        ``score``, the similarity of the key to its canonical key (1 for the canonical key).

    Raises
    ------
    ConfigError
        The kind has no near-duplicate rule, or the threshold is outside 0 to 1.

    Examples
    --------
    >>> keys = pd.Series([
    ...     "jl sudirman 12 karet jakarta selatan 12190",
    ...     "jl sudirmn 12 karet jakarta selatan 12190",
    ...     "jl sudirman 12 jakarta selatan karet 12190",
    ...     "jl sudirman 21 karet jakarta selatan 12190",
    ... ])
    >>> found = resolve_near_duplicates("Address", keys, counts=pd.Series([5, 1, 1, 3]))
    >>> found.round(2).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'key': 'jl sudirman 12 karet jakarta selatan 12190',
      'canonical': 'jl sudirman 12 karet jakarta selatan 12190', 'score': 1.0},
     {'key': 'jl sudirmn 12 karet jakarta selatan 12190',
      'canonical': 'jl sudirman 12 karet jakarta selatan 12190', 'score': 0.99},
     {'key': 'jl sudirman 12 jakarta selatan karet 12190',
      'canonical': 'jl sudirman 12 karet jakarta selatan 12190', 'score': 1.0},
     {'key': 'jl sudirman 21 karet jakarta selatan 12190',
      'canonical': 'jl sudirman 21 karet jakarta selatan 12190', 'score': 1.0}]
    """
    rule = RULES.get(kind)
    if rule is None:
        raise ConfigError(
            f"near-duplicate resolution knows {', '.join(sorted(RULES))}, not {kind!r}"
        )
    cutoff = rule.threshold if threshold is None else threshold
    if not 0 <= cutoff <= 1:
        raise ConfigError(f"a near-duplicate threshold is between 0 and 1 (got {threshold})")
    frame = _distinct(keys, counts)
    compared = _compared(frame["key"], rule)
    left, right = _candidate_pairs(_blocks(frame["key"], rule), max_block)
    scores = _scores(compared, left, right)
    joined = scores >= cutoff
    canonical, score = _groups(frame, compared, left[joined], right[joined], cutoff)
    return pd.DataFrame({"key": frame["key"], "canonical": canonical, "score": score})


def _distinct(keys: pd.Series, counts: pd.Series | None) -> pd.DataFrame:
    """Distinct present keys, in first-seen order, with how often each is used."""
    used = (
        pd.Series(1, index=keys.index)
        if counts is None
        else pd.Series(counts.to_numpy(), index=keys.index)
    )
    frame = pd.DataFrame({"key": keys.astype(TEXT), "count": used.to_numpy()}).dropna()
    grouped = frame.groupby("key", sort=False)["count"].sum()
    return pd.DataFrame({"key": grouped.index.astype(object), "count": grouped.to_numpy()})


def _compared(keys: pd.Series, rule: NearDuplicateRule) -> np.ndarray:
    text = keys.astype(TEXT)
    if rule.compared == "local":
        text = text.str.replace("@.*", "", regex=True)
    return text.to_numpy(dtype=object)


def _blocks(keys: pd.Series, rule: NearDuplicateRule) -> pd.Series:
    """The block of each key: keys are compared only with keys of the same block."""
    text = keys.astype(TEXT)
    if rule.block == "digit_words":
        return _digit_words(text)
    if rule.block == "email":
        local = text.str.replace("@.*", "", regex=True)
        domain = text.str.replace("^[^@]*@", "", regex=True)
        digits = local.str.replace("[^0-9]", "", regex=True)
        return domain + "|" + digits + "|" + local.str.slice(0, 1)
    words = text.str.count(" ").astype("string")
    return text.str.slice(0, 1) + "|" + words


def _digit_words(text: pd.Series) -> pd.Series:
    """The words of each key that hold a digit, sorted: "12 12190 3 5"."""
    words = text.str.split(" ")
    exploded = words.explode()
    digits = exploded[exploded.str.contains("[0-9]", regex=True).fillna(False).astype(bool)]
    joined = digits.groupby(level=0).agg(lambda group: " ".join(sorted(group)))
    return joined.reindex(text.index).fillna("").astype(object)


def _candidate_pairs(blocks: pd.Series, max_block: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (i < j) of keys sharing a block of at most ``max_block`` keys."""
    codes, _ = pd.factorize(blocks, use_na_sentinel=True)
    size = np.bincount(codes[codes >= 0], minlength=max(codes.max(initial=-1) + 1, 0))
    members_of = size[np.maximum(codes, 0)]
    usable = (codes >= 0) & (members_of > 1) & (members_of <= max_block)
    members = pd.DataFrame({"block": codes[usable], "position": np.flatnonzero(usable)})
    pairs = members.merge(members, on="block", suffixes=("_left", "_right"))
    pairs = pairs[pairs["position_left"] < pairs["position_right"]]
    return pairs["position_left"].to_numpy(), pairs["position_right"].to_numpy()


def _scores(compared: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Similarity 0-1 of each pair, scored in C++ on every core."""
    if not len(left):
        return np.zeros(0, dtype=np.float64)
    scores = process.cpdist(
        compared[left].tolist(), compared[right].tolist(), scorer=fuzz.token_sort_ratio,
        workers=-1,
    )  # fmt: skip
    return np.asarray(scores, dtype=np.float64) / 100


def _groups(
    frame: pd.DataFrame, compared: np.ndarray, left: np.ndarray, right: np.ndarray, cutoff: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per key, its group's canonical key and its score against it."""
    size = len(frame)
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(size, size))
    _, group = connected_components(graph, directed=False)
    # Most used first, then shortest, then alphabetical: the canonical key leads its group.
    ranked = frame.assign(group=group, length=frame["key"].str.len()).sort_values(
        ["group", "count", "length", "key"], ascending=[True, False, True, True], kind="stable"
    )
    leaders = ranked.groupby("group", sort=False).head(1)
    lead = pd.Series(leaders.index.to_numpy(), index=leaders["group"].to_numpy())[group]
    lead = lead.to_numpy().copy()
    score = np.ones(size, dtype=np.float64)
    others = np.flatnonzero(lead != np.arange(size))
    score[others] = _scores(compared, others, lead[others])
    # A key joined only through a chain of small differences stays on its own.
    alone = score < cutoff
    lead[alone] = np.flatnonzero(alone)
    score[alone] = 1.0
    return frame["key"].to_numpy(dtype=object)[lead], score
