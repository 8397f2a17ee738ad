"""Hubs decided by the data: things so widely used, by strangers, that sharing them says nothing.

A café's IP, a parcel locker, a marketplace warehouse, an in-store kiosk, a seller with
thousands of buyers: linking everyone who uses them glues unrelated households into one giant
"ring". A fixed cap on users cannot tell them from a ring's drop address or a card farm, which
are also used by dozens, and it is defeated by a locker written three ways (three nodes of a
hundred users each). So a thing is a hub when two facts about it hold *in this graph*:

1. **Its use is an outlier for its kind.** Its users - all spellings of it together - lie past
   the upper far-out fence (Tukey, 1977) of ``log(users)`` over the things of that kind.
   Personal things and households set the bulk (1-6 users per home, device, card); a kind
   whose things are all small gets a low fence, a kind full of big ones a high one.
2. **Its users do not cohere.** Few of them share anything else with another of its users
   beyond what chance gives. For each other thing ``j`` its users also use, the overlap ``o``
   is compared with a Poisson null whose mean is the configuration model's (degree-corrected:
   busy people use many things of a kind, so they meet on popular ones by chance): an overlap
   that improbable (tail below ``cohesion_alpha``) and many times what chance gives
   (``cohesion_enrichment``; a ring's cards share thousands of times more users than chance)
   ties those users together. A ring's card is used by people who share its
   other cards and devices; a locker's users are strangers, bar the odd household that uses
   it together.

Spellings are judged as one: keys that differ only in case, spacing and punctuation are one
thing (a device id with and without dashes), and an address is identified by its numbers (house,
unit, postcode survive every respelling). The loader also merges near-duplicates; this catches
what reaches the graph split anyway. Every hub is reported with the numbers behind the call.

References
----------
J. W. Tukey, *Exploratory Data Analysis*, Addison-Wesley (1977): far-out fences, ``Q3 + 3 IQR``.
B. Hooi et al., "FRAUDAR: Bounding Graph Fraud in the Face of Camouflage", KDD 2016: widely
used columns must count for less, or camouflage and popular items swamp the dense block.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.stats import poisson

from algorithms.engines import scrambled
from graphfraud.model import EntityKind
from graphfraud.settings import DetectionSettings

#: Columns :func:`decide_hubs` returns, one row per thing.
HUB_COLUMNS: tuple[str, ...] = ("group", "group_accounts", "fence", "cohesion", "hub")


def spelling_stems(kinds: pd.Series, keys: pd.Series) -> pd.Series:
    """The text all spellings of one thing share, prefixed with its kind.

    Addresses keep their numbers only (house, unit, postcode: what survives respelling a place);
    other kinds keep letters and digits, lower-cased (separators and case are spelling).

    Examples
    --------
    >>> kinds = pd.Series(["Address", "Address", "Device", "Device"])
    >>> keys = pd.Series(["Locker 100 (QuickBox), 5 Elm St 19106",
    ...                   "quickbox pickup point 100, 5 elm street, 19106", "AB-12", "ab12"])
    >>> spelling_stems(kinds, keys).tolist()
    ['Address 100 5 19106', 'Address 100 5 19106', 'Device ab12', 'Device ab12']
    """
    text = pa.array(keys.astype(str).to_numpy(), pa.string())
    kind = kinds.astype(str).to_numpy()
    numbers = pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"[^0-9]+", " "))
    plain = pc.replace_substring_regex(pc.utf8_lower(text), r"[^\p{L}\p{N}]+", "")
    address = pa.array(kind == EntityKind.ADDRESS)
    # A numberless address (a named building) keeps its letters: it is no stem of anything.
    stem = pc.if_else(pc.and_(address, pc.greater(pc.utf8_length(numbers), 0)), numbers, plain)
    return pd.Series(kind, index=keys.index, dtype=object) + " " + stem.to_pandas().to_numpy()


def decide_hubs(
    uses: pd.DataFrame,
    things: pd.DataFrame,
    *,
    stems: pd.Series,
    n_accounts: int,
    settings: DetectionSettings,
) -> pd.DataFrame:
    """Which things are hubs, and why.

    Parameters
    ----------
    uses
        Who uses what: ``node`` (account id) and ``thing`` (row of ``things``), each pair once.
    things
        One row per thing: its ``kind`` and ``accounts`` (users). Things of kind ``Account``
        (an account as what its direct counterparties "use") are tested, but do not make
        others cohere: buying from one small seller is no tie between two buyers.
    stems
        Per thing, the text its spellings share (:func:`spelling_stems`), or None for a thing
        judged alone; things with one stem are judged as one.
    n_accounts
        Accounts in the graph (the population of the null model).
    settings
        ``hub_fence``, ``hub_min_accounts``, ``hub_cohesion`` and ``cohesion_alpha``.

    Returns
    -------
    pandas.DataFrame
        Aligned with ``things``: ``group`` (things that are spellings of one share it),
        ``group_accounts`` (distinct users of the group), ``fence`` (its kind's fence),
        ``cohesion`` (share of users tied to another user by something else; NaN when the
        group was not tested because it is within the fence) and ``hub``.

    Examples
    --------
    Forty strangers at a locker, and four card sharers among twenty pairs:

    >>> uses = pd.DataFrame({"node": list(range(40)) + [40, 41, 42, 43] + list(range(44, 84)),
    ...                      "thing": [0] * 40 + [1] * 4 + [2 + i // 2 for i in range(40)]})
    >>> things = pd.DataFrame({"kind": ["Address", "PaymentInstrument"] + ["Address"] * 20,
    ...                        "key": ["locker 1"] + ["card"] + [f"{i} home" for i in range(20)]})
    >>> things["accounts"] = uses.groupby("thing").size()
    >>> stems = spelling_stems(things["kind"], things["key"])
    >>> settings = DetectionSettings(hub_min_accounts=10)
    >>> hubs = decide_hubs(uses, things, stems=stems, n_accounts=84, settings=settings)
    >>> hubs["hub"].tolist()[:2]
    [True, False]
    """
    shared = things["accounts"].to_numpy(np.int64) >= 2
    group = _groups(stems)
    n_groups = int(group.max(initial=-1)) + 1

    n = max(n_accounts, 1)
    node = uses["node"].to_numpy(np.int64)
    thing = uses["thing"].to_numpy(np.int64)
    group_of_use = group[thing]
    spelled = np.bincount(group, minlength=n_groups)[group_of_use] > 1
    pairs = _distinct(group_of_use * n + node, spelled)
    users = np.bincount(pairs // n, minlength=n_groups)

    kind, kind_names = pd.factorize(things["kind"])
    kind_of_group = np.empty(n_groups, dtype=np.int64)
    kind_of_group[group] = kind
    fence = kind_fences(kind_of_group, users, settings)
    candidate = users > fence

    cohesion = np.full(n_groups, np.nan)
    tested = np.flatnonzero(candidate)
    if len(tested):
        names = [str(name) for name in kind_names]
        account = names.index(EntityKind.ACCOUNT) if EntityKind.ACCOUNT in names else -1
        # Things of kind Account do not make others cohere (see ``things`` above).
        telling = shared[thing] & (kind[thing] != account)
        other = _distinct((group_of_use * n + node)[telling], spelled[telling])
        cohesion[tested] = _cohesion(
            pairs, other, users, kind_of_group, tested, n_accounts, settings
        )
    hub = candidate & (cohesion < settings.hub_cohesion)
    return pd.DataFrame(
        {
            "group": group,
            "group_accounts": users[group],
            "fence": fence[group],
            "cohesion": cohesion[group],
            "hub": hub[group],
        },
        index=things.index,
    )


def _groups(stems: pd.Series) -> np.ndarray:
    """Group per thing: things with one stem share one, a thing without a stem (None) is alone.

    Sorted stems number groups the same way whatever order the things arrived in; only the
    things that may have spellings need a stem, so millions of personal things hash nothing.
    """
    values = stems.to_numpy(dtype=object)
    named = pd.notna(values)
    codes, uniques = pd.factorize(values[named], sort=True)
    group = np.empty(len(values), dtype=np.int64)
    group[named] = codes
    group[~named] = len(uniques) + np.arange(np.count_nonzero(~named))
    return group


def _distinct(pairs: np.ndarray, spelled: np.ndarray) -> np.ndarray:
    """``pairs`` (group, node codes) each once. Uses are distinct (node, thing) pairs, so only
    those of a group of several spellings can repeat: only they are sorted."""
    return np.concatenate([pairs[~spelled], np.unique(pairs[spelled])])


def kind_fences(kinds: np.ndarray, users: np.ndarray, settings: DetectionSettings) -> np.ndarray:
    """Per group, the far-out fence of its kind (a code or a name) on log(users), at least
    ``hub_min_accounts``.

    Quartiles are taken over every thing of the kind, personal ones included: where sharing
    is rare (phones, e-mails) the shared few are the outliers, not the reference.
    """
    fence = np.full(len(users), float(settings.hub_min_accounts))
    used = users >= 1
    for kind in np.unique(kinds[used]).tolist():
        same = kinds == kind
        logs = np.log(users[same & used])
        q1, q3 = np.quantile(logs, [0.25, 0.75])
        # Rounded: exp(log(16)) must not fall a hair below 16.
        far_out = round(float(np.exp(q3 + settings.hub_fence * (q3 - q1))), 6)
        fence[same] = max(far_out, fence[same][0])
    return fence


def _cohesion(
    pairs: np.ndarray,
    other: np.ndarray,
    users: np.ndarray,
    group_kinds: np.ndarray,
    tested: np.ndarray,
    n_accounts: int,
    settings: DetectionSettings,
) -> np.ndarray:
    """Share of each tested group's users who co-use something else with another of its users
    more often than a degree-corrected Poisson null allows.

    ``pairs`` are every (group, user) pair and ``other`` the pairs of the groups that can tie
    users together (shared things, accounts aside), each coded ``group * n_accounts + node``.

    The null is the configuration model: a user of ``d`` things of a kind holds each of them
    with a chance proportional to ``d`` and to the thing's users, so the expected overlap of
    the sampled users ``S`` with a thing ``j`` of kind ``K`` is
    ``n_j * sum(d_K(u) for u in S) / (total uses of kind K)``. Busy people log in from many
    carrier IPs and cafés; that is no tie between them (Chung and Lu, 2002).

    A group's users are sampled (``cohesion_sample``, the same ones every run: the smallest
    hashes of their node ids), so a carrier IP with a million users costs no more than a
    locker.

    References
    ----------
    F. Chung, L. Lu, "Connected components in random graphs with given expected degree
    sequences", Annals of Combinatorics 6 (2002).
    """
    n = max(n_accounts, 1)
    member_group, member = pairs // n, pairs % n
    is_tested = np.zeros(len(users), dtype=bool)
    is_tested[tested] = True
    keep = is_tested[member_group]
    member_group, member = member_group[keep], member[keep]
    order = np.lexsort((scrambled(member), member_group))
    member_group, member = member_group[order], member[order]
    starts = np.flatnonzero(np.r_[True, member_group[1:] != member_group[:-1]])
    rank = np.arange(len(member)) - np.repeat(starts, np.diff(np.r_[starts, len(member)]))
    sampled = rank < settings.cohesion_sample
    members = pd.DataFrame({"g": member_group[sampled], "node": member[sampled]})
    # Other shared things of those users (spellings of the same thing are not "other").
    others = pd.DataFrame({"node": other % n, "j": other // n})
    # Degrees per kind (a code): distinct things of each kind every account uses, and uses
    # per kind.
    n_kinds = int(group_kinds.max(initial=-1)) + 1
    use_kind = group_kinds[pairs // n]
    degree = np.bincount((pairs % n) * n_kinds + use_kind, minlength=n * n_kinds)
    degree = degree.reshape(n, n_kinds)
    total = pd.Series(np.bincount(use_kind, minlength=n_kinds))
    sample_degree = (
        pd.DataFrame(degree[members["node"].to_numpy()]).groupby(members["g"].to_numpy()).sum()
    )
    groups = pd.DataFrame({"users": users, "kind": group_kinds})
    tied = tied_share(members, others, groups=groups, sample_degree=sample_degree, total=total,
                      settings=settings)  # fmt: skip
    return tied.reindex(tested, fill_value=0).to_numpy() / np.minimum(
        users[tested], settings.cohesion_sample
    )


def tied_share(
    members: pd.DataFrame,
    other: pd.DataFrame,
    *,
    groups: pd.DataFrame,
    sample_degree: pd.DataFrame,
    total: pd.Series,
    settings: DetectionSettings,
) -> pd.Series:
    """How many of each tested group's sampled users are tied to another by something else.

    The core of the cohesion test (:func:`decide_hubs`), on the small pieces it needs, so an
    engine that holds the uses elsewhere (Spark) gathers just these and decides alike.

    Parameters
    ----------
    members
        Sampled users of the tested groups: ``g`` (group) and ``node``.
    other
        The shared things (not accounts) those users use: ``node`` and ``j`` (group).
    groups
        Indexed by group (every ``g`` and ``j``): ``users`` and ``kind``.
    sample_degree
        Indexed by tested group, one column per kind: the sampled users' summed degrees.
    total
        Uses per kind in the whole graph.
    settings
        ``cohesion_enrichment`` and ``cohesion_alpha``.

    Returns
    -------
    pandas.Series
        Tied users per tested group that has any (indexed by group).
    """
    triples = members.merge(other, on="node")
    triples = triples[triples["g"].to_numpy() != triples["j"].to_numpy()]
    overlap = triples.groupby(["g", "j"], sort=False).size().rename("o").reset_index()
    o = overlap["o"].to_numpy(np.int64)
    j = groups.loc[overlap["j"].to_numpy()]
    kind = j["kind"].to_numpy()
    column = sample_degree.columns.get_indexer(kind)
    rows = sample_degree.index.get_indexer(overlap["g"].to_numpy())
    expected = (
        j["users"].to_numpy()
        * sample_degree.to_numpy()[rows, column]
        / np.maximum(total.reindex(kind, fill_value=0).to_numpy("float64"), 1)
    )
    surprising = (
        (o >= 2)
        & (o >= settings.cohesion_enrichment * expected)
        & (poisson.sf(o - 1, expected) <= settings.cohesion_alpha)
    )
    tied = triples.merge(overlap.loc[surprising, ["g", "j"]], on=["g", "j"])
    return tied.drop_duplicates(["g", "node"]).groupby("g").size()
