"""Every SQL statement of the DuckDB engine, named.

Frames are registered with the connection under the name ``incoming`` before a statement that
reads them runs; parameters use ``$name`` placeholders.
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    kind VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    display VARCHAR,
    created_at TIMESTAMP,
    label VARCHAR,
    attributes VARCHAR
);
-- Stores made before entities had attributes gain the column.
ALTER TABLE entities ADD COLUMN IF NOT EXISTS attributes VARCHAR;
CREATE TABLE IF NOT EXISTS links (
    src_kind VARCHAR NOT NULL,
    src_key VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    dst_kind VARCHAR NOT NULL,
    dst_key VARCHAR NOT NULL,
    first_seen TIMESTAMP,
    last_seen TIMESTAMP,
    count BIGINT NOT NULL,
    amount DOUBLE
);
CREATE TABLE IF NOT EXISTS events (
    event_id VARCHAR NOT NULL,
    source VARCHAR,
    kind VARCHAR,
    account VARCHAR NOT NULL,
    time TIMESTAMP,
    amount DOUBLE,
    refs VARCHAR[] NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    name VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
"""

# Point lookups (an entity, the links touching a few) answer the API in about a millisecond
# with these, where each would scan the whole table. Bulk merges drop them and they are built
# again afterwards, outside the merge's transaction: at 1M accounts (7.5M entities, 11M links)
# maintaining them during the merge took 56 s, building them afterwards 10 s.
CREATE_KEY_INDEXES = """
CREATE INDEX IF NOT EXISTS entities_key ON entities (key);
CREATE INDEX IF NOT EXISTS links_src_key ON links (src_key);
CREATE INDEX IF NOT EXISTS links_dst_key ON links (dst_key);
CREATE INDEX IF NOT EXISTS events_account ON events (account);
"""

DROP_KEY_INDEXES = """
DROP INDEX IF EXISTS entities_key;
DROP INDEX IF EXISTS links_src_key;
DROP INDEX IF EXISTS links_dst_key;
DROP INDEX IF EXISTS events_account;
"""

# Collapse duplicates within one incoming frame before it is merged into a store. Attributes
# merge per attribute in ``_order``, so a later row's value wins; a JSON merge patch never
# meets a null value, since conforming drops them.
AGGREGATE_ENTITIES = """
SELECT kind, key, max(display) AS display, min(created_at) AS created_at, max(label) AS label,
       CASE WHEN count(attributes) > 0 THEN list_reduce(
           list(attributes ORDER BY _order) FILTER (WHERE attributes IS NOT NULL),
           lambda merged, newer: json_merge_patch(merged, newer)::VARCHAR
       ) END AS attributes
FROM incoming GROUP BY kind, key
"""

AGGREGATE_LINKS = """
SELECT src_kind, src_key, kind, dst_kind, dst_key,
       min(first_seen) AS first_seen, max(last_seen) AS last_seen,
       sum(count)::BIGINT AS count, sum(amount) AS amount
FROM incoming GROUP BY src_kind, src_key, kind, dst_kind, dst_key
"""

LINK_ENDPOINTS = """
SELECT kind, key, NULL::VARCHAR AS display, NULL::TIMESTAMP AS created_at, NULL::VARCHAR AS label,
       NULL::VARCHAR AS attributes
FROM (SELECT src_kind AS kind, src_key AS key FROM incoming
      UNION SELECT dst_kind, dst_key FROM incoming)
"""

# Upserts run as an update of the rows that exist followed by an insert of the rest: two hash
# joins, which DuckDB does at millions of rows per second, where a unique index would cost
# memory and slow every bulk insert.
UPDATE_ENTITIES = """
UPDATE entities SET
    display = coalesce(incoming.display, entities.display),
    created_at = least(entities.created_at, incoming.created_at),
    label = coalesce(incoming.label, entities.label),
    attributes = CASE WHEN entities.attributes IS NULL THEN incoming.attributes
                      WHEN incoming.attributes IS NULL THEN entities.attributes
                      ELSE json_merge_patch(entities.attributes, incoming.attributes)::VARCHAR
                 END
FROM incoming
WHERE entities.kind = incoming.kind AND entities.key = incoming.key
"""

INSERT_NEW_ENTITIES = """
INSERT INTO entities
SELECT kind, key, display, created_at, label, attributes FROM incoming
ANTI JOIN entities USING (kind, key)
"""

UPDATE_LINKS = """
UPDATE links SET
    first_seen = least(links.first_seen, incoming.first_seen),
    last_seen = greatest(links.last_seen, incoming.last_seen),
    count = greatest(links.count, incoming.count),
    amount = greatest(links.amount, incoming.amount)
FROM incoming
WHERE links.src_kind = incoming.src_kind AND links.src_key = incoming.src_key
  AND links.kind = incoming.kind
  AND links.dst_kind = incoming.dst_kind AND links.dst_key = incoming.dst_key
"""

INSERT_NEW_LINKS = """
INSERT INTO links
SELECT src_kind, src_key, kind, dst_kind, dst_key, first_seen, last_seen, count, amount
FROM incoming
ANTI JOIN links USING (src_kind, src_key, kind, dst_kind, dst_key)
"""

# Events are replaced whole: the newest row of an id is the event as the source now tells it.
LAST_EVENT_PER_ID = """
SELECT event_id, source, kind, account, time, amount, refs FROM incoming
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY _order DESC) = 1
"""

DROP_REPLACED_EVENTS = "DELETE FROM events WHERE event_id IN (SELECT event_id FROM incoming)"

INSERT_EVENTS = """
INSERT INTO events SELECT event_id, source, kind, account, time, amount, refs FROM incoming
"""

SELECT_EVENTS = """
SELECT event_id, source, kind, account, time, amount, refs FROM events
WHERE ($accounts IS NULL OR account = ANY($accounts))
  AND ($refs IS NULL OR list_has_any(refs, $refs))
  AND ($since IS NULL OR time >= $since)
  AND ($until IS NULL OR time < $until)
ORDER BY time NULLS LAST, event_id
"""

# A whole load into an empty store: plain inserts of tables aggregated already.
IS_EMPTY = """
SELECT NOT EXISTS (FROM entities) AND NOT EXISTS (FROM links) AND NOT EXISTS (FROM events)
"""

INSERT_ENTITIES = """
INSERT INTO entities SELECT kind, key, display, created_at, label, attributes FROM incoming
"""

INSERT_LINKS = """
INSERT INTO links
SELECT src_kind, src_key, kind, dst_kind, dst_key, first_seen, last_seen, count, amount
FROM incoming
"""

SELECT_META = "SELECT value FROM meta WHERE name = $name"

ADD_META = "INSERT INTO meta VALUES ($name, $value) ON CONFLICT DO NOTHING"

REPLACE_META = "INSERT OR REPLACE INTO meta VALUES ($name, $value)"

SELECT_LINKS = """
SELECT src_kind, src_key, kind, dst_kind, dst_key, first_seen, last_seen, count, amount
FROM links
WHERE ($kinds IS NULL OR list_contains($kinds, kind))
  AND ($since IS NULL OR last_seen >= $since)
"""

SELECT_ENTITIES = """
SELECT kind, key, display, created_at, label, attributes FROM entities
WHERE ($kind IS NULL OR kind = $kind)
"""

# DuckDB scans an index only for a filter on the indexed column alone, at the top level of a
# query: the lookups by key below filter on nothing else, and the engine checks the kinds on
# their (small) results. Long key lists fall back to a scan, which is as fast as a join.
SELECT_ENTITIES_BY_KEY = """
SELECT kind, key, display, created_at, label, attributes FROM entities WHERE key = ANY($keys)
"""

LINKS_BY_KEY = """
SELECT * FROM links WHERE src_key = ANY($keys)
UNION
SELECT * FROM links WHERE dst_key = ANY($keys)
"""

# A link is stored once, from its source: the links among a set of nodes are found from their
# sources alone, never fanning out of a widely used identifier.
LINKS_FROM_KEY = "SELECT * FROM links WHERE src_key = ANY($keys)"

# -- rings, verdicts, runs ----------------------------------------------------------------------
# What detection writes (rings, their members, what each run did to each ring, the runs) and
# what investigators write (verdicts, notes, the audit trail) are separate tables: a detection
# run and a verdict change never write the same rows, so neither can undo the other.
#
# ring_members has no index: a run replaces the members of every ring it finds, and with two
# indexes on the table, committing 13,000 rings' members took 24 s instead of 0.8 s; a scan of
# its few hundred thousand rows takes a millisecond or two.

RING_SCHEMA = """
CREATE TABLE IF NOT EXISTS rings (
    ring_id VARCHAR PRIMARY KEY,
    score DOUBLE NOT NULL,
    typology VARCHAR NOT NULL,
    size BIGINT NOT NULL,
    evidence VARCHAR NOT NULL,
    first_detected TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    active BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS ring_members (
    ring_id VARCHAR NOT NULL,
    account VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    pagerank DOUBLE NOT NULL,
    degree BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    settings VARCHAR NOT NULL,
    data_from TIMESTAMP,
    data_to TIMESTAMP,
    engine VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    accounts BIGINT NOT NULL,
    candidates BIGINT NOT NULL,
    rings BIGINT NOT NULL,
    new BIGINT NOT NULL,
    returned BIGINT NOT NULL,
    grown BIGINT NOT NULL,
    shrunk BIGINT NOT NULL,
    retired BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS ring_runs (
    run_id VARCHAR NOT NULL,
    ring_id VARCHAR NOT NULL,
    change VARCHAR NOT NULL,
    size BIGINT NOT NULL,
    score DOUBLE,
    joined VARCHAR[] NOT NULL,
    "left" VARCHAR[] NOT NULL
);
CREATE INDEX IF NOT EXISTS ring_runs_ring ON ring_runs (ring_id);
CREATE TABLE IF NOT EXISTS verdicts (
    ring_id VARCHAR PRIMARY KEY,
    status VARCHAR NOT NULL,
    assignee VARCHAR,
    revision BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS notes (
    ring_id VARCHAR NOT NULL,
    time TIMESTAMP NOT NULL,
    actor VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    revision BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_ring ON notes (ring_id);
CREATE TABLE IF NOT EXISTS audit (
    time TIMESTAMP NOT NULL,
    actor VARCHAR NOT NULL,
    ring_id VARCHAR NOT NULL,
    field VARCHAR NOT NULL,
    old VARCHAR,
    new VARCHAR,
    revision BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_ring ON audit (ring_id);
"""

# A store written before ring history kept the verdict in the rings table (status, note) and
# no history (detected_at, text): its rings move to the tables of now, in one transaction.
EARLIER_RINGS = "SELECT ring_id, status, note, detected_at FROM rings"

SET_EARLIER_RINGS_ASIDE = """
DROP INDEX IF EXISTS ring_members_ring;
DROP INDEX IF EXISTS ring_members_account;
ALTER TABLE rings RENAME TO rings_earlier;
"""

# ``earlier_times``: when each ring was last detected (records.earlier_rings).
KEEP_EARLIER_RINGS = """
INSERT INTO rings
SELECT r.ring_id, r.score, r.typology, r.size, r.evidence, t.detected, t.detected, r.active
FROM rings_earlier r JOIN earlier_times t USING (ring_id);
DROP TABLE rings_earlier;
"""

#: The columns of the ``rings`` table, to tell a store written before ring history apart.
RING_TABLE_COLUMNS = """
SELECT column_name FROM information_schema.columns
WHERE table_name = 'rings' AND table_schema = current_schema()
"""

# A run's rings, in one transaction: ``incoming`` holds them (records.RING_SCHEMA),
# ``incoming_members`` their members, ``incoming_appearances`` what the run did to each ring,
# ``incoming_run`` the run; ``$time`` is when it finished, ``$retired`` the rings it retired.
UPDATE_FOUND_RINGS = """
UPDATE rings SET score = i.score, typology = i.typology, size = i.size, evidence = i.evidence,
                 last_seen = $time, active = true
FROM incoming i WHERE rings.ring_id = i.ring_id
"""

INSERT_NEW_RINGS = """
INSERT INTO rings
SELECT ring_id, score, typology, size, evidence, $time, $time, true
FROM incoming ANTI JOIN rings USING (ring_id)
"""

RETIRE_RINGS = "UPDATE rings SET active = false WHERE list_contains($retired, ring_id)"

DROP_REPLACED_MEMBERS = "DELETE FROM ring_members WHERE ring_id IN (SELECT ring_id FROM incoming)"

INSERT_MEMBERS = "INSERT INTO ring_members SELECT * FROM incoming_members"

INSERT_APPEARANCES = "INSERT INTO ring_runs SELECT * FROM incoming_appearances"

INSERT_RUN = "INSERT INTO runs SELECT * FROM incoming_run"

RING_INDEX = """
SELECT r.ring_id, r.score, r.typology, r.size, coalesce(v.status, 'new') AS status,
       v.assignee, r.first_detected, r.last_seen, r.active
FROM rings r LEFT JOIN verdicts v USING (ring_id)
WHERE $ids IS NULL OR r.ring_id = ANY($ids)
ORDER BY r.ring_id
"""

RING_IDS_WITH = "SELECT DISTINCT ring_id FROM ring_members WHERE account = $account"

# The latest note is the one of the highest revision: revisions count a verdict's changes.
RING_ROWS = """
SELECT r.ring_id, r.score, r.typology, r.size, r.evidence, r.first_detected, r.last_seen,
       r.active, coalesce(v.status, 'new') AS status, v.assignee, coalesce(n.note, '') AS note
FROM rings r
LEFT JOIN verdicts v USING (ring_id)
LEFT JOIN (SELECT ring_id, arg_max(text, revision) AS note FROM notes
           WHERE ring_id = ANY($ids) GROUP BY ring_id) n USING (ring_id)
WHERE r.ring_id = ANY($ids)
"""

MEMBERS_OF = """
SELECT ring_id, account, role, pagerank, degree FROM ring_members WHERE ring_id = ANY($ids)
"""

ALL_MEMBERS = "SELECT ring_id, account, role, pagerank, degree FROM ring_members"

NOTES_OF = "SELECT ring_id, time, actor, text, revision FROM notes WHERE ring_id = ANY($ids)"

ALL_NOTES = "SELECT ring_id, time, actor, text, revision FROM notes"

AUDIT = """
SELECT time, actor, ring_id, field, old, new, revision FROM audit
WHERE ($ring_id IS NULL OR ring_id = $ring_id)
  AND ($since IS NULL OR time >= $since)
  AND ($until IS NULL OR time < $until)
"""

RUNS = "SELECT * FROM runs"

APPEARANCES = """
SELECT a.run_id, a.ring_id, a.change, a.size, a.score, a.joined, a."left", r.finished_at AS time
FROM ring_runs a JOIN runs r USING (run_id)
WHERE a.ring_id = $ring_id
"""

RING_CHANGES = """
SELECT a.run_id, a.ring_id, a.change, a.size, a.score, a.joined, a."left", r.finished_at AS time
FROM ring_runs a JOIN runs r USING (run_id)
WHERE a.change = ANY($changes) AND ($since IS NULL OR r.finished_at > $since)
"""

# A verdict change, in one transaction: read the verdict, then write it with the notes
# (``incoming_notes``) and audit entries (``incoming_audit``) the change makes.
VERDICT = "SELECT status, assignee, revision FROM verdicts WHERE ring_id = $ring_id"

WRITE_VERDICT = """
INSERT INTO verdicts VALUES ($ring_id, $status, $assignee, $revision)
ON CONFLICT (ring_id) DO UPDATE
SET status = excluded.status, assignee = excluded.assignee, revision = excluded.revision
"""

INSERT_NOTES = "INSERT INTO notes SELECT * FROM incoming_notes"

INSERT_AUDIT = "INSERT INTO audit SELECT * FROM incoming_audit"

ENTITY_COUNTS = "SELECT kind, count(*) FROM entities GROUP BY kind ORDER BY kind"

LINK_COUNTS = "SELECT kind, count(*) FROM links GROUP BY kind ORDER BY kind"

ACTIVE_RING_COUNT = "SELECT count(*) FROM rings WHERE active"

# -- risk and hubs of the latest detection run --------------------------------------------------
# Replaced whole by each run that keeps them: no key index (a run writes a million rows at once,
# and the API reads them into memory; a lookup of a few accounts scans in milliseconds).

SCORES_SCHEMA = """
CREATE TABLE IF NOT EXISTS account_risk (
    account VARCHAR NOT NULL,
    risk DOUBLE NOT NULL,
    score DOUBLE NOT NULL,
    known_bad BOOLEAN NOT NULL,
    nearest VARCHAR,
    hops BIGINT NOT NULL,
    via VARCHAR
);
CREATE TABLE IF NOT EXISTS hubs (
    kind VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    link VARCHAR NOT NULL,
    accounts BIGINT NOT NULL,
    group_accounts BIGINT NOT NULL,
    fence DOUBLE,
    cohesion DOUBLE
);
"""

REPLACE_RISK = """
DELETE FROM account_risk;
INSERT INTO account_risk SELECT * FROM incoming_risk;
"""

REPLACE_HUBS = """
DELETE FROM hubs;
INSERT INTO hubs SELECT * FROM incoming_hubs;
"""

SELECT_RISK = """
SELECT * FROM account_risk WHERE $accounts IS NULL OR account = ANY($accounts)
"""

SELECT_HUBS = "SELECT * FROM hubs"

# Detection reads links with both ends numbered here, in the database (graphfraud.store.coded):
# the entities numbered in (kind, key) order, so the codes follow the data and not the order its
# rows were loaded in. ``links`` and ``entities`` are the store's tables (every link's ends are
# among its entities), or relations a frame was turned into under those names. Casts: a
# registered frame may hold categoricals, which DuckDB reads as enums. The numbered nodes are
# registered back as ``coded_nodes`` (kind, key, code) for the links to be joined to: sorting
# once for the fetch costs less than numbering with a window and fetching in code order.
CODED_NODES = """
SELECT kind::VARCHAR AS kind, key::VARCHAR AS key FROM entities ORDER BY kind, key
"""

# The links' other columns come along as they are (a registered frame brings its row position).
CODED_LINKS = """
SELECT s.code AS src, d.code AS dst,
       l.* EXCLUDE (src_kind, src_key, dst_kind, dst_key)
FROM links AS l
JOIN coded_nodes AS s ON s.key = l.src_key::VARCHAR AND s.kind = l.src_kind::VARCHAR
JOIN coded_nodes AS d ON d.key = l.dst_key::VARCHAR AND d.kind = l.dst_kind::VARCHAR
WHERE ($kinds IS NULL OR list_contains($kinds, l.kind::VARCHAR))
  AND ($since IS NULL OR l.last_seen >= $since)
"""

# How many links the coded read must return: a link whose end is not among the entities would
# be lost by the join, and detection would silently miss it.
COUNT_PICKED_LINKS = """
SELECT count(*) FROM links
WHERE ($kinds IS NULL OR list_contains($kinds, kind::VARCHAR))
  AND ($since IS NULL OR last_seen >= $since)
"""

# A frame's entities: every end of its links, and the accounts it was given.
FRAME_ENDS = """
CREATE VIEW entities AS
SELECT src_kind::VARCHAR AS kind, src_key::VARCHAR AS key FROM links
UNION SELECT dst_kind::VARCHAR, dst_key::VARCHAR FROM links
UNION SELECT kind, key FROM accounts
"""
