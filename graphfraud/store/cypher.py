"""Every Cypher statement of the Neo4j engine, named.

The graph in Neo4j: one node per entity, labelled with its kind (``:Account``, ``:Device``...)
and identified by a uniquely constrained ``key``; one relationship per link, typed with its kind
(``USES_DEVICE``...) and carrying ``first_seen``, ``last_seen`` (UTC datetimes), ``count`` and
``amount``; one ``:Ring`` node per ring, ``(:Ring)-[:HAS_MEMBER]->(:Account)``, its evidence a
JSON string property.

Cypher cannot take a label or relationship type as a parameter and still use the key index, so
statements that need one are templates: ``{label}``, ``{src}``, ``{dst}`` and ``{kind}`` are
filled by the engine with backtick-quoted names it has checked. Everything else is a ``$param``.
Timestamps are read back as microseconds since the epoch (``epochSeconds * 1e6 +
microsecond``), which pandas turns into a column at once.
"""

RING = "Ring"
MEMBER = "HAS_MEMBER"
#: Events are nodes of their own, outside the entity graph: they have no relationships, so no
#: walk ever reaches them.
EVENT = "Event"
#: One node per stored setting of the database (its fingerprint key).
META = "GraphfraudMeta"
#: Entity attributes are node properties named with this prefix (``attr.country``), so that a
#: merge is ``SET n += $attributes`` and an attribute never shadows ``key`` or ``label``.
ATTRIBUTE_PREFIX = "attr."

# -- schema ----------------------------------------------------------------------------------

KEY_CONSTRAINT = "CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.key IS UNIQUE"

RING_CONSTRAINT = "CREATE CONSTRAINT ring_id IF NOT EXISTS FOR (r:Ring) REQUIRE r.ring_id IS UNIQUE"

EVENT_CONSTRAINT = (
    "CREATE CONSTRAINT event_id IF NOT EXISTS FOR (e:Event) REQUIRE e.event_id IS UNIQUE"
)

EVENT_ACCOUNT_INDEX = "CREATE INDEX event_account IF NOT EXISTS FOR (e:Event) ON (e.account)"

META_CONSTRAINT = (
    "CREATE CONSTRAINT graphfraud_meta IF NOT EXISTS "
    "FOR (m:GraphfraudMeta) REQUIRE m.name IS UNIQUE"
)

# -- writes ----------------------------------------------------------------------------------

# Merge rules are those of the store contract: display and label keep the newest non-null
# value, created_at the earliest; ``row.attributes`` holds only non-null values, each under
# its property name, so ``+=`` sets those and keeps the others. Timestamps arrive as ISO-8601
# text: the driver converts Python datetimes some 50x slower than strings, and ``datetime()``
# parses them in a microsecond.
UPSERT_ENTITIES = """
UNWIND $rows AS row
MERGE (n:{label} {{key: row.key}})
SET n.display = coalesce(row.display, n.display),
    n.label = coalesce(row.label, n.label),
    n.created_at = CASE WHEN n.created_at IS NULL OR datetime(row.created_at) < n.created_at
                        THEN datetime(row.created_at) ELSE n.created_at END
SET n += row.attributes
"""

# One SET serves new and existing relationships: on a new one every property is null, so each
# CASE takes the incoming value. Endpoints are merged here, in the same pass, rather than in a
# separate one before (which cost a tenth of a load).
UPSERT_LINKS = """
UNWIND $rows AS row
MERGE (a:{src} {{key: row.src_key}})
MERGE (b:{dst} {{key: row.dst_key}})
MERGE (a)-[r:{kind}]->(b)
SET r.first_seen = CASE WHEN r.first_seen IS NULL OR datetime(row.first_seen) < r.first_seen
                        THEN datetime(row.first_seen) ELSE r.first_seen END,
    r.last_seen = CASE WHEN r.last_seen IS NULL OR datetime(row.last_seen) > r.last_seen
                       THEN datetime(row.last_seen) ELSE r.last_seen END,
    r.count = CASE WHEN r.count IS NULL OR row.count > r.count THEN row.count ELSE r.count END,
    r.amount = CASE WHEN r.amount IS NULL OR row.amount > r.amount
                    THEN row.amount ELSE r.amount END
"""

# An event stored before is replaced whole.
UPSERT_EVENTS = """
UNWIND $rows AS row
MERGE (e:Event {event_id: row.event_id})
SET e.source = row.source, e.kind = row.kind, e.account = row.account,
    e.time = datetime(row.time), e.amount = row.amount, e.refs = row.refs
"""

ADD_META = """
MERGE (m:GraphfraudMeta {name: $name})
ON CREATE SET m.value = $value
RETURN m.value AS value
"""

REPLACE_META = """
MERGE (m:GraphfraudMeta {name: $name})
SET m.value = $value
RETURN m.value AS value
"""

# Rings, in one transaction: retire labelled rings that are gone, delete unlabelled ones,
# upsert the new set (a stored verdict wins over an incoming "new"), replace memberships.
RETIRE_RINGS = """
MATCH (r:Ring) WHERE NOT r.ring_id IN $ids AND r.status <> 'new'
SET r.active = false
"""

DROP_RINGS = """
MATCH (r:Ring) WHERE NOT r.ring_id IN $ids AND r.status = 'new'
DETACH DELETE r
"""

DROP_MEMBERS = """
MATCH (r:Ring)-[m:HAS_MEMBER]->() WHERE r.ring_id IN $ids
DELETE m
"""

UPSERT_RINGS = """
UNWIND $rings AS row
MERGE (r:Ring {ring_id: row.ring_id})
SET r.status = CASE WHEN row.status = 'new' AND r.status IS NOT NULL
                    THEN r.status ELSE row.status END,
    r.note = CASE WHEN row.status = 'new' AND r.note IS NOT NULL THEN r.note ELSE row.note END,
    r.score = row.score,
    r.typology = row.typology,
    r.size = row.size,
    r.evidence = row.evidence,
    r.detected_at = row.detected_at,
    r.active = true
"""

ADD_MEMBERS = """
UNWIND $members AS row
MATCH (r:Ring {ring_id: row.ring_id})
MERGE (a:Account {key: row.account})
CREATE (r)-[:HAS_MEMBER {role: row.role, pagerank: row.pagerank, degree: row.degree}]->(a)
"""

SET_RING_STATUS = """
MATCH (r:Ring {ring_id: $ring_id})
SET r.status = $status, r.note = $note
"""

# -- reads -----------------------------------------------------------------------------------
# Reads that make a frame return one record whose ``rows`` holds every row as a list (in
# ENTITY_COLUMNS or LINK_COLUMNS order): the driver decodes one long list five times faster
# than as many records. Bulk exports run per label or per relationship type, which bounds what
# the server holds at once.


def _micros(value: str) -> str:
    return f"{value}.epochSeconds * 1000000 + {value}.microsecond"


def _entity_row(n: str) -> str:
    attributes = (
        f"[name IN keys({n}) WHERE name STARTS WITH '{ATTRIBUTE_PREFIX}' "
        f"| [substring(name, {len(ATTRIBUTE_PREFIX)}), {n}[name]]]"
    )
    return (
        f"[labels({n})[0], {n}.key, {n}.display, {_micros(n + '.created_at')}, {n}.label, "
        f"{attributes}]"
    )


def _link_row(a: str, r: str, b: str) -> str:
    return (
        f"[labels({a})[0], {a}.key, type({r}), labels({b})[0], {b}.key, "
        f"{_micros(r + '.first_seen')}, {_micros(r + '.last_seen')}, {r}.count, {r}.amount]"
    )


LINKS_OF_KIND = f"""
MATCH (a)-[r:{{kind}}]->(b)
WHERE $since IS NULL OR r.last_seen >= $since
RETURN collect({_link_row("a", "r", "b")}) AS rows
"""

# Null times sort last, as in the DuckDB engine.
EVENTS = f"""
MATCH (e:Event)
WHERE ($accounts IS NULL OR e.account IN $accounts)
  AND ($refs IS NULL OR any(ref IN e.refs WHERE ref IN $refs))
  AND ($since IS NULL OR e.time >= $since)
  AND ($until IS NULL OR e.time < $until)
WITH e ORDER BY e.time, e.event_id
RETURN collect([e.event_id, e.source, e.kind, e.account, {_micros("e.time")}, e.amount,
                e.refs]) AS rows
"""

ENTITIES_OF_KIND = f"""
MATCH (n:{{label}})
RETURN collect({_entity_row("n")}) AS rows
"""

ENTITIES_BY_KEYS = f"""
UNWIND $keys AS key
MATCH (n:{{label}} {{{{key: key}}}})
RETURN collect({_entity_row("n")}) AS rows
"""

ENTITIES_WITH_KEYS = f"""
MATCH (n) WHERE NOT n:Ring AND n.key IN $keys
RETURN collect({_entity_row("n")}) AS rows
"""

ELEMENT_ID = "MATCH (n:{label} {{key: $key}})\nRETURN elementId(n) AS id"

# The neighbours of a frontier (element ids), in (kind, key) order, at most $limit of them.
NEIGHBOURS = """
UNWIND $ids AS id
MATCH (n) WHERE elementId(n) = id
MATCH (n)-[r]-(m) WHERE type(r) <> 'HAS_MEMBER'
WITH DISTINCT m
RETURN elementId(m) AS id, labels(m)[0] AS kind, m.key AS key
ORDER BY kind, key
LIMIT $limit
"""

NODES_BY_IDS = f"""
UNWIND $ids AS id
MATCH (n) WHERE elementId(n) = id
WITH n ORDER BY labels(n)[0], n.key
RETURN collect({_entity_row("n")}) AS rows
"""

LINKS_WITHIN = f"""
UNWIND $ids AS id
MATCH (a) WHERE elementId(a) = id
MATCH (a)-[r]->(b) WHERE type(r) <> 'HAS_MEMBER' AND elementId(b) IN $ids
RETURN collect({_link_row("a", "r", "b")}) AS rows
"""

# ``{hops}`` is an integer the contract has bounded; Ring nodes are reachable only through
# HAS_MEMBER, so excluding that type keeps the walk inside the entity graph. Nodes and links
# come back in path order.
SHORTEST_PATH = f"""
MATCH (x:{{src}} {{{{key: $src_key}}}}), (y:{{dst}} {{{{key: $dst_key}}}})
MATCH p = shortestPath((x)-[*..{{hops}}]-(y))
WHERE all(rel IN relationships(p) WHERE type(rel) <> 'HAS_MEMBER')
RETURN [n IN nodes(p) | {_entity_row("n")}] AS nodes,
       [r IN relationships(p) | {_link_row("startNode(r)", "r", "endNode(r)")}] AS links
"""

# Every link touching some entities of one kind (either way), each once.
LINKS_TOUCHING = f"""
UNWIND $keys AS key
MATCH (n:{{label}} {{{{key: key}}}})-[r]-()
WHERE type(r) <> 'HAS_MEMBER'
WITH DISTINCT r
WITH startNode(r) AS a, r, endNode(r) AS b
RETURN collect({_link_row("a", "r", "b")}) AS rows
"""

ACCOUNTS_SHARING = f"""
MATCH (x:{{label}} {{{{key: $key}}}})-[r]-(a:Account)
WHERE type(r) <> 'HAS_MEMBER'
WITH a, r ORDER BY a.key, type(r)
RETURN collect([a.key, type(r), r.count, {_micros("r.first_seen")}, {_micros("r.last_seen")},
                {_micros("a.created_at")}, a.label]) AS rows
"""

_RING_FILTER = """
MATCH (r:Ring)
WHERE r.active
  AND ($min_score IS NULL OR r.score >= $min_score)
  AND ($typology IS NULL OR r.typology = $typology)
  AND ($status IS NULL OR r.status = $status)
  AND ($min_size IS NULL OR r.size >= $min_size)
  AND ($max_size IS NULL OR r.size <= $max_size)
  AND ($account IS NULL OR EXISTS { (r)-[:HAS_MEMBER]->(:Account {key: $account}) })
"""

_RING = """r.ring_id AS ring_id, r.score AS score, r.typology AS typology, r.status AS status,
       r.note AS note, r.evidence AS evidence, r.detected_at AS detected_at"""

COUNT_RINGS = _RING_FILTER + "RETURN count(r) AS total"

# ``$sort`` names the property (score, size or ring_id, checked by the contract); a direction
# cannot be a parameter, hence two statements.
PAGE_RINGS_DESC = (
    _RING_FILTER + f"RETURN {_RING}\nORDER BY r[$sort] DESC, r.ring_id\nSKIP $offset LIMIT $limit"
)
PAGE_RINGS_ASC = (
    _RING_FILTER + f"RETURN {_RING}\nORDER BY r[$sort] ASC, r.ring_id\nSKIP $offset LIMIT $limit"
)

RING_BY_ID = f"""
MATCH (r:Ring {{ring_id: $ring_id}})
RETURN {_RING}
"""

RING_MEMBERS = """
MATCH (r:Ring)-[m:HAS_MEMBER]->(a:Account) WHERE r.ring_id IN $ids
RETURN r.ring_id AS ring_id, a.key AS account, m.role AS role, m.pagerank AS pagerank,
       m.degree AS degree
ORDER BY ring_id, pagerank DESC, account
"""

# -- stats (count-store lookups: constant time whatever the graph size) ----------------------

LABELS = "CALL db.labels() YIELD label RETURN label"

RELATIONSHIP_TYPES = "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType"

COUNT_LABEL = "MATCH (n:{label}) RETURN count(n) AS n"

COUNT_TYPE = "MATCH ()-[r:{kind}]->() RETURN count(r) AS n"

ACTIVE_RINGS = "MATCH (r:Ring) WHERE r.active RETURN count(r) AS n"

# -- maintenance -----------------------------------------------------------------------------

#: Empties the database in bounded transactions (tests and benchmarks start from nothing).
#: Needs an auto-commit transaction (``session.run``), as every ``IN TRANSACTIONS`` does.
DELETE_EVERYTHING = """
MATCH (n)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS
"""
