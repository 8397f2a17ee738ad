"""Every Cypher statement of the Neo4j engine, named.

The graph in Neo4j: one node per entity, labelled with its kind (``:Account``, ``:Device``...)
and identified by a uniquely constrained ``key``; one relationship per link, typed with its kind
(``USES_DEVICE``...) and carrying ``first_seen``, ``last_seen`` (UTC datetimes), ``count`` and
``amount``; one ``:Ring`` node per ring, ``(:Ring)-[:HAS_MEMBER]->(:Account)``, its evidence a
JSON string property. Beside the graph, unconnected: investigators' ``:Verdict`` (one per ring,
by ``ring_id``), ``:Note`` and ``:AuditEntry`` nodes, and detection's ``:Run`` nodes and
``:RingRun`` nodes (what a run did to a ring). Verdicts are nodes of their own so that a
detection run, which writes ``:Ring`` nodes, never takes a lock an investigator's change waits
on, nor writes a property one made.

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
#: The latest detection run's account risk and hubs: nodes of their own, replaced whole by each
#: run, outside the entity graph (an entity's own node is never rewritten by detection).
RISK = "AccountRisk"
HUB = "Hub"
#: Entity attributes are node properties named with this prefix (``attr.country``), so that a
#: merge is ``SET n += $attributes`` and an attribute never shadows ``key`` or ``label``.
ATTRIBUTE_PREFIX = "attr."
#: Labels of the nodes that are not entities.
INTERNAL_LABELS = frozenset(
    {RING, "Verdict", "Note", "AuditEntry", "Run", "RingRun", EVENT, META, RISK, HUB}
)

# -- schema ----------------------------------------------------------------------------------

KEY_CONSTRAINT = "CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.key IS UNIQUE"

RING_SCHEMA = (
    "CREATE CONSTRAINT ring_id IF NOT EXISTS FOR (r:Ring) REQUIRE r.ring_id IS UNIQUE",
    "CREATE CONSTRAINT verdict_ring IF NOT EXISTS FOR (v:Verdict) REQUIRE v.ring_id IS UNIQUE",
    "CREATE CONSTRAINT run_id IF NOT EXISTS FOR (r:Run) REQUIRE r.run_id IS UNIQUE",
    "CREATE INDEX note_ring IF NOT EXISTS FOR (n:Note) ON (n.ring_id)",
    "CREATE INDEX audit_ring IF NOT EXISTS FOR (e:AuditEntry) ON (e.ring_id)",
    "CREATE INDEX audit_time IF NOT EXISTS FOR (e:AuditEntry) ON (e.time)",
    "CREATE INDEX ring_run_ring IF NOT EXISTS FOR (a:RingRun) ON (a.ring_id)",
)

# Rings written before ring history and verdict nodes carry ``status``, ``note`` and a
# ``detected_at`` text: they become rings of now, their verdicts nodes of their own.
EARLIER_RINGS = """
MATCH (r:Ring) WHERE r.status IS NOT NULL
RETURN collect([r.ring_id, r.status, r.note, r.detected_at]) AS rows
"""

# ``$rows``: ring_id and when it was last detected (records.earlier_rings).
KEEP_EARLIER_RINGS = """
UNWIND $rows AS row
MATCH (r:Ring {ring_id: row.ring_id})
SET r.first_detected = datetime(row.detected), r.last_seen = datetime(row.detected)
REMOVE r.status, r.note, r.detected_at
"""

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
# separate one before (which cost a tenth of a load). The rows come as one list per column
# ($src_key, $dst_key, ...), not a list of maps: 10-12% more links/s at 2,000 and at 10,000 rows
# per transaction (measured beside the ``neo4j_batch_size`` setting), as no map is built
# in Python nor encoded per row.
UPSERT_LINKS = """
UNWIND range(0, size($src_key) - 1) AS i
WITH $src_key[i] AS src_key, $dst_key[i] AS dst_key, $first_seen[i] AS first_seen,
     $last_seen[i] AS last_seen, $count[i] AS count, $amount[i] AS amount
MERGE (a:{src} {{key: src_key}})
MERGE (b:{dst} {{key: dst_key}})
MERGE (a)-[r:{kind}]->(b)
SET r.first_seen = CASE WHEN r.first_seen IS NULL OR datetime(first_seen) < r.first_seen
                        THEN datetime(first_seen) ELSE r.first_seen END,
    r.last_seen = CASE WHEN r.last_seen IS NULL OR datetime(last_seen) > r.last_seen
                       THEN datetime(last_seen) ELSE r.last_seen END,
    r.count = CASE WHEN r.count IS NULL OR count > r.count THEN count ELSE r.count END,
    r.amount = CASE WHEN r.amount IS NULL OR amount > r.amount THEN amount ELSE r.amount END
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

# A run's rings, in one transaction: upsert the rings found ($time: when the run finished),
# retire the others, replace the members of those found, add what the run did to each ring and
# the run itself. Nothing here touches a :Verdict.
UPSERT_RINGS = """
UNWIND $rings AS row
MERGE (r:Ring {ring_id: row.ring_id})
ON CREATE SET r.first_detected = datetime($time)
SET r.score = row.score,
    r.typology = row.typology,
    r.size = row.size,
    r.evidence = row.evidence,
    r.last_seen = datetime($time),
    r.active = true
"""

RETIRE_RINGS = """
UNWIND $ids AS id
MATCH (r:Ring {ring_id: id})
SET r.active = false
"""

DROP_MEMBERS = """
UNWIND $ids AS id
MATCH (:Ring {ring_id: id})-[m:HAS_MEMBER]->()
DELETE m
"""

ADD_MEMBERS = """
UNWIND $members AS row
MATCH (r:Ring {ring_id: row.ring_id})
MERGE (a:Account {key: row.account})
CREATE (r)-[:HAS_MEMBER {role: row.role, pagerank: row.pagerank, degree: row.degree}]->(a)
"""

ADD_APPEARANCES = """
UNWIND $rows AS row
CREATE (a:RingRun)
SET a = row
"""

ADD_RUN = """
UNWIND $rows AS row
CREATE (r:Run)
SET r = row,
    r.started_at = datetime(row.started_at),
    r.finished_at = datetime(row.finished_at),
    r.data_from = datetime(row.data_from),
    r.data_to = datetime(row.data_to)
"""

# A verdict change, in one transaction. Writing a property first takes the verdict's write
# lock, so the values read after it are the latest committed, and no concurrent change can
# write between this read and the write that follows (Neo4j's documented way to avoid lost
# updates under read-committed isolation).
LOCK_VERDICT = """
MERGE (v:Verdict {ring_id: $ring_id})
ON CREATE SET v.status = 'new', v.revision = 0
SET v.locked = true
RETURN v.status AS status, v.assignee AS assignee, v.revision AS revision
"""

WRITE_VERDICT = """
MATCH (v:Verdict {ring_id: $ring_id})
SET v.status = $status, v.assignee = $assignee, v.revision = $revision
REMOVE v.locked
"""

ADD_NOTES = """
UNWIND $rows AS row
CREATE (n:Note)
SET n = row, n.time = datetime(row.time)
"""

ADD_AUDIT = """
UNWIND $rows AS row
CREATE (e:AuditEntry)
SET e = row, e.time = datetime(row.time)
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

# Null times sort last, as in the DuckDB engine. A bulk import leaves an empty refs list unset.
EVENTS = f"""
MATCH (e:Event)
WHERE ($accounts IS NULL OR e.account IN $accounts)
  AND ($refs IS NULL OR any(ref IN e.refs WHERE ref IN $refs))
  AND ($since IS NULL OR e.time >= $since)
  AND ($until IS NULL OR e.time < $until)
WITH e ORDER BY e.time, e.event_id
RETURN collect([e.event_id, e.source, e.kind, e.account, {_micros("e.time")}, e.amount,
                coalesce(e.refs, [])]) AS rows
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

# Every link touching some entities of one kind (either way), each once.
LINKS_TOUCHING = f"""
UNWIND $keys AS key
MATCH (n:{{label}} {{{{key: key}}}})-[r]-()
WHERE type(r) <> 'HAS_MEMBER'
WITH DISTINCT r
WITH startNode(r) AS a, r, endNode(r) AS b
RETURN collect({_link_row("a", "r", "b")}) AS rows
"""

# Links whose source is one of some entities of one kind.
LINKS_FROM = f"""
UNWIND $keys AS key
MATCH (a:{{label}} {{{{key: key}}}})-[r]->(b)
WHERE type(r) <> 'HAS_MEMBER'
RETURN collect({_link_row("a", "r", "b")}) AS rows
"""

# The ring index without verdicts, in ring-id order (read from the ring_id index, which keeps
# that order): joining each ring to its verdict here tripled the time of the query at 13,000
# rings; the verdicts, far fewer, come from VERDICTS and are joined in the engine.
RING_INDEX = f"""
MATCH (r:Ring) WHERE r.ring_id >= ''
WITH r ORDER BY r.ring_id
RETURN collect([r.ring_id, r.score, r.typology, r.size, {_micros("r.first_detected")},
                {_micros("r.last_seen")}, r.active]) AS rows
"""

RING_INDEX_OF = f"""
UNWIND $ids AS id
MATCH (r:Ring {{ring_id: id}})
WITH r ORDER BY r.ring_id
RETURN collect([r.ring_id, r.score, r.typology, r.size, {_micros("r.first_detected")},
                {_micros("r.last_seen")}, r.active]) AS rows
"""

VERDICTS = "MATCH (v:Verdict)\nRETURN collect([v.ring_id, v.status, v.assignee]) AS rows"

VERDICTS_OF = """
UNWIND $ids AS id
MATCH (v:Verdict {ring_id: id})
RETURN collect([v.ring_id, v.status, v.assignee]) AS rows
"""

RING_IDS_WITH = """
MATCH (:Account {key: $account})<-[:HAS_MEMBER]-(r:Ring)
RETURN collect(DISTINCT r.ring_id) AS rows
"""

# The latest note is the one of the highest revision: revisions count a verdict's changes.
RING_ROWS = f"""
UNWIND $ids AS id
MATCH (r:Ring {{ring_id: id}})
OPTIONAL MATCH (v:Verdict {{ring_id: id}})
OPTIONAL MATCH (n:Note {{ring_id: id}})
WITH r, v, n ORDER BY n.revision DESC
WITH r, v, collect(n.text)[0] AS note
RETURN collect([r.ring_id, r.score, r.typology, r.size, r.evidence,
                {_micros("r.first_detected")}, {_micros("r.last_seen")}, r.active,
                coalesce(v.status, 'new'), v.assignee, coalesce(note, '')]) AS rows
"""

_MEMBER_ROW = "[r.ring_id, a.key, m.role, m.pagerank, m.degree]"

MEMBERS_OF = f"""
UNWIND $ids AS id
MATCH (r:Ring {{ring_id: id}})-[m:HAS_MEMBER]->(a:Account)
RETURN collect({_MEMBER_ROW}) AS rows
"""

ALL_MEMBERS = f"""
MATCH (r:Ring)-[m:HAS_MEMBER]->(a:Account)
RETURN collect({_MEMBER_ROW}) AS rows
"""

_NOTE_ROW = f"[n.ring_id, {_micros('n.time')}, n.actor, n.text, n.revision]"

NOTES_OF = f"""
UNWIND $ids AS id
MATCH (n:Note {{ring_id: id}})
RETURN collect({_NOTE_ROW}) AS rows
"""

ALL_NOTES = f"MATCH (n:Note)\nRETURN collect({_NOTE_ROW}) AS rows"

AUDIT = f"""
MATCH (e:AuditEntry)
WHERE ($ring_id IS NULL OR e.ring_id = $ring_id)
  AND ($since IS NULL OR e.time >= $since)
  AND ($until IS NULL OR e.time < $until)
RETURN collect([{_micros("e.time")}, e.actor, e.ring_id, e.field, e.old, e.new,
                e.revision]) AS rows
"""

RUNS = f"""
MATCH (r:Run)
RETURN collect([r.run_id, {_micros("r.started_at")}, {_micros("r.finished_at")}, r.settings,
                {_micros("r.data_from")}, {_micros("r.data_to")}, r.engine, r.version,
                r.accounts, r.candidates, r.rings, r.new, r.returned, r.grown, r.shrunk,
                r.retired]) AS rows
"""

APPEARANCES = f"""
MATCH (a:RingRun {{ring_id: $ring_id}})
MATCH (r:Run {{run_id: a.run_id}})
RETURN collect([a.run_id, a.ring_id, a.change, a.size, a.score, a.joined, a.left,
                {_micros("r.finished_at")}]) AS rows
"""

RING_CHANGES = f"""
MATCH (a:RingRun) WHERE a.change IN $changes
MATCH (r:Run {{run_id: a.run_id}}) WHERE $since IS NULL OR r.finished_at > $since
RETURN collect([a.run_id, a.ring_id, a.change, a.size, a.score, a.joined, a.left,
                {_micros("r.finished_at")}]) AS rows
"""

# -- risk and hubs of the latest detection run ----------------------------------------------

RISK_INDEX = "CREATE INDEX account_risk IF NOT EXISTS FOR (r:AccountRisk) ON (r.account)"

#: Needs an auto-commit transaction (``session.run``), as every ``IN TRANSACTIONS`` does.
DROP_SCORES = """
MATCH (n) WHERE n:AccountRisk OR n:Hub
CALL (n) { DELETE n } IN TRANSACTIONS OF 10000 ROWS
"""

ADD_RISK = """
UNWIND $rows AS row
CREATE (r:AccountRisk)
SET r = row
"""

ADD_HUBS = """
UNWIND $rows AS row
CREATE (h:Hub)
SET h = row
"""

RISK_OF = """
MATCH (r:AccountRisk)
WHERE $accounts IS NULL OR r.account IN $accounts
RETURN collect([r.account, r.risk, r.score, r.known_bad, r.nearest, r.hops, r.via]) AS rows
"""

HUBS = """
MATCH (h:Hub)
RETURN collect([h.kind, h.key, h.link, h.accounts, h.group_accounts, h.fence, h.cohesion])
       AS rows
"""

# Whether the database holds anything but its settings (a bulk import needs it empty).
HOLDS_DATA = f"RETURN EXISTS {{ MATCH (n) WHERE NOT n:{META} }} AS found"

ALL_META = f"MATCH (m:{META}) RETURN m.name AS name, m.value AS value"

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
