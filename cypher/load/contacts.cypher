// Push side, contacts: one (:Subscriber)-[:CONTACT]->(:Subscriber) per contacts row, from `a` to `b`.
// Properties are named one by one in the CREATE (no map SET): the planner then needs no Eager step.
// CREATE is safe because a batch commits together with its LoadBatch node (unique key): a batch
// that already committed cannot commit again, and the push only creates batches of one load.

// name: load.contacts
// params: batch: str, load: str, rows: list
// description: Create one batch of contacts between existing subscribers, with every column of the
//   contacts table as a property (timestamps come as epoch seconds), and record the batch as done
//   in the same transaction.
// example: {"batch": "contacts:9c1d:000000", "load": "9c1d", "rows": [{"a": "0000000000000000", "b": "0000000000000001", "weight": 1.5, "calls_ab": 3, "first_contact": 1735689600}]}
CREATE (:LoadBatch {key: $batch, load: $load, kind: 'contacts', rows: size($rows), loaded_at: datetime()})
WITH $rows AS rows
UNWIND rows AS row
MATCH (a:Subscriber {id: row.a})
MATCH (b:Subscriber {id: row.b})
CREATE (a)-[:CONTACT {
  calls_ab: row.calls_ab, calls_ba: row.calls_ba,
  seconds_ab: row.seconds_ab, seconds_ba: row.seconds_ba,
  sms_ab: row.sms_ab, sms_ba: row.sms_ba,
  first_contact: CASE WHEN row.first_contact IS NULL THEN null ELSE datetime({epochSeconds: row.first_contact}) END,
  last_contact: CASE WHEN row.last_contact IS NULL THEN null ELSE datetime({epochSeconds: row.last_contact}) END,
  active_days: row.active_days, night_share: row.night_share, reciprocity: row.reciprocity,
  weight: row.weight
}]->(b);

// name: load.contacts_plain
// params: rows: list
// description: The plain single-statement baseline of bench/bench_neo4j_load.py: no bookkeeping.
// example: {"rows": [{"a": "0000000000000000", "b": "0000000000000001", "weight": 1.5}]}
UNWIND $rows AS row
MATCH (a:Subscriber {id: row.a})
MATCH (b:Subscriber {id: row.b})
CREATE (a)-[:CONTACT {
  calls_ab: row.calls_ab, calls_ba: row.calls_ba,
  seconds_ab: row.seconds_ab, seconds_ba: row.seconds_ba,
  sms_ab: row.sms_ab, sms_ba: row.sms_ba,
  first_contact: CASE WHEN row.first_contact IS NULL THEN null ELSE datetime({epochSeconds: row.first_contact}) END,
  last_contact: CASE WHEN row.last_contact IS NULL THEN null ELSE datetime({epochSeconds: row.last_contact}) END,
  active_days: row.active_days, night_share: row.night_share, reciprocity: row.reciprocity,
  weight: row.weight
}]->(b);
