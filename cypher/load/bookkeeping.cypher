// Push side, bookkeeping: which batches of a load are done, and clearing what another load left.

// name: load.done_batches
// params: kind: str, load: str
// description: Keys and row counts of the committed batches of one load.
// example: {"kind": "contacts", "load": "9c1d"}
MATCH (b:LoadBatch {kind: $kind})
WHERE b.load = $load
RETURN b.key AS key, b.rows AS rows;

// name: load.batch_done
// params: batch: str
// description: Whether the batch with this key committed (one row) or not (no row).
// example: {"batch": "contacts:9c1d:000000"}
MATCH (b:LoadBatch {key: $batch})
RETURN b.rows AS rows;

// name: load.count_contacts
// params:
// description: Number of CONTACT relationships (answered from the count store).
MATCH ()-[c:CONTACT]->()
RETURN count(c) AS n;

// name: load.count_subscribers
// params:
// description: Number of Subscriber nodes (answered from the count store).
MATCH (s:Subscriber)
RETURN count(s) AS n;

// name: load.delete_contacts
// params:
// description: Delete every CONTACT relationship in transactions of 50,000 (run outside an explicit transaction).
MATCH ()-[c:CONTACT]->()
CALL (c) { DELETE c } IN TRANSACTIONS OF 50000 ROWS;

// name: load.delete_batches
// params: kind: str
// description: Forget the batches of every load of one kind.
// example: {"kind": "contacts"}
MATCH (b:LoadBatch {kind: $kind})
DELETE b;

// name: load.forget_other_loads
// params: kind: str, load: str
// description: After a complete push, forget the batches of earlier loads of one kind.
// example: {"kind": "subscribers", "load": "0f3a"}
MATCH (b:LoadBatch {kind: $kind})
WHERE b.load <> $load
DELETE b;

// name: load.delete_graph
// params:
// description: Delete every node Bellwether loads (subscribers, communities, graph info, load batches) with their relationships.
MATCH (n)
WHERE n:Subscriber OR n:Community OR n:CoarseCommunity OR n:GraphInfo OR n:LoadBatch
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS;

// name: store.counts
// params:
// description: Numbers of subscribers, contacts, fine and coarse communities and MEMBER_OF links (from the count store).
CALL () { MATCH (s:Subscriber) RETURN count(s) AS subscribers }
CALL () { MATCH ()-[c:CONTACT]->() RETURN count(c) AS contacts }
CALL () { MATCH (c:Community) RETURN count(c) AS communities }
CALL () { MATCH (c:CoarseCommunity) RETURN count(c) AS coarse_communities }
CALL () { MATCH ()-[m:MEMBER_OF]->() RETURN count(m) AS memberships }
RETURN subscribers, contacts, communities, coarse_communities, memberships;
