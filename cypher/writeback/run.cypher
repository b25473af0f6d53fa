// Write-back: the tables of an analysis run (workspace/runs/<run_id>/) as properties, Community nodes
// (fine level) with MEMBER_OF relationships, and CoarseCommunity nodes (coarse level) that each Community
// is PART_OF. Re-running replaces: memberships are deleted and re-created, communities
// not in the run are deleted, subscriber properties are overwritten (a null removes one).

// name: writeback.subscribers
// params: rows: list, run: str
// description: Set the run's per-subscriber columns (community, pagerank, role, churn_risk...) as properties.
// example: {"run": "20250101T000000", "rows": [{"id": "a3f09c2e5b7d1e44", "props": {"community": 3, "role": "bellwether"}}]}
UNWIND $rows AS row
MATCH (s:Subscriber {id: row.id})
SET s += row.props, s.run_id = $run;

// name: writeback.segments
// params: rows: list
// description: Set a subscriber's segment columns (value_tier, behaviour, usage_mix, cluster...) as properties.
// example: {"rows": [{"id": "a3f09c2e5b7d1e44", "props": {"value_tier": "high", "cluster": 2}}]}
UNWIND $rows AS row
MATCH (s:Subscriber {id: row.id})
SET s += row.props;

// name: writeback.delete_memberships
// params:
// description: Delete every MEMBER_OF relationship, in transactions of 50,000 (run outside an explicit transaction).
MATCH (:Subscriber)-[m:MEMBER_OF]->(:Community)
CALL (m) { DELETE m } IN TRANSACTIONS OF 50000 ROWS;

// name: writeback.delete_stale_communities
// params: ids: list
// description: Delete the Community nodes whose id is not among the run's communities.
// example: {"ids": [0, 1, 2]}
MATCH (c:Community)
WHERE NOT c.id IN $ids
DETACH DELETE c;

// name: writeback.communities
// params: rows: list, run: str
// description: Create or update one Community node per row, replacing its properties.
// example: {"run": "20250101T000000", "rows": [{"id": 3, "props": {"id": 3, "size": 12, "bellwether": "a3f09c2e5b7d1e44"}}]}
UNWIND $rows AS row
MERGE (c:Community {id: row.id})
SET c = row.props, c.run_id = $run;

// name: writeback.memberships
// params: rows: list
// description: Link subscribers to their community (after writeback.delete_memberships, so CREATE never duplicates).
// example: {"rows": [{"id": "a3f09c2e5b7d1e44", "community": 3}]}
UNWIND $rows AS row
MATCH (s:Subscriber {id: row.id})
MATCH (c:Community {id: row.community})
CREATE (s)-[:MEMBER_OF]->(c);

// name: writeback.delete_stale_coarse_communities
// params: ids: list
// description: Delete the CoarseCommunity nodes whose id is not among the run's coarse communities.
// example: {"ids": [0, 1]}
MATCH (c:CoarseCommunity)
WHERE NOT c.id IN $ids
DETACH DELETE c;

// name: writeback.coarse_communities
// params: rows: list, run: str
// description: Create or update one CoarseCommunity node per row, replacing its properties.
// example: {"run": "20250101T000000", "rows": [{"id": 1, "props": {"id": 1, "size": 240, "fine_communities": 9}}]}
UNWIND $rows AS row
MERGE (c:CoarseCommunity {id: row.id})
SET c = row.props, c.run_id = $run;

// name: writeback.part_of
// params: rows: list
// description: Link each Community to the CoarseCommunity holding it, replacing its previous link.
// example: {"rows": [{"id": 3, "coarse": 1}]}
UNWIND $rows AS row
MATCH (c:Community {id: row.id})
OPTIONAL MATCH (c)-[old:PART_OF]->(:CoarseCommunity)
DELETE old
WITH DISTINCT c, row
MATCH (g:CoarseCommunity {id: row.coarse})
CREATE (c)-[:PART_OF]->(g);

// name: writeback.subscribers_present
// params: ids: list
// description: How many of these subscriber ids exist (write-back checks the graph was pushed first).
// example: {"ids": ["a3f09c2e5b7d1e44"]}
UNWIND $ids AS id
MATCH (s:Subscriber {id: id})
RETURN count(s) AS n;
