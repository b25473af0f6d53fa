// Push side, subscribers: MERGE on the pseudonymous id, so any batch can be replayed.
// Properties are named one by one (no map SET): the planner then needs no Eager step.

// name: load.subscribers
// params: batch: str, load: str, rows: list
// description: Merge one batch of subscribers on their id and set the columns of the subscribers table
//   (a null removes the property); churn_date comes as an ISO date string. The LoadBatch node commits
//   in the same transaction, so a resumed push skips the batch.
// example: {"batch": "subscribers:0f3a:000000", "load": "0f3a", "rows": [{"id": "a3f09c2e5b7d1e44", "on_net": true, "kind": "person", "churn_date": "2025-01-31"}]}
CREATE (:LoadBatch {key: $batch, load: $load, kind: 'subscribers', rows: size($rows), loaded_at: datetime()})
WITH $rows AS rows
UNWIND rows AS row
MERGE (s:Subscriber {id: row.id})
SET s.on_net = row.on_net,
    s.kind = row.kind,
    s.plan = row.plan,
    s.arpu = row.arpu,
    s.tenure_months = row.tenure_months,
    s.region = row.region,
    s.status = row.status,
    s.churn_date = date(row.churn_date);

// name: load.subscribers_new
// params: batch: str, load: str, rows: list
// description: Create one batch of subscribers that are not in the database yet (the push uses it when
//   every Subscriber node there came from earlier batches of the same load; twice as fast as MERGE).
//   A subscriber that exists after all fails the uniqueness constraint and the batch is merged instead.
// example: {"batch": "subscribers:0f3a:000000", "load": "0f3a", "rows": [{"id": "a3f09c2e5b7d1e44", "on_net": true, "kind": "person"}]}
CREATE (:LoadBatch {key: $batch, load: $load, kind: 'subscribers', rows: size($rows), loaded_at: datetime()})
WITH $rows AS rows
UNWIND rows AS row
CREATE (:Subscriber {
  id: row.id, on_net: row.on_net, kind: row.kind, plan: row.plan, arpu: row.arpu,
  tenure_months: row.tenure_months, region: row.region, status: row.status, churn_date: date(row.churn_date)
});

// name: load.graph_info
// params: info: str
// description: Record how the pushed graph was built (the workspace's graph.json as JSON text).
// example: {"info": "{\"as_of\": \"2025-01-01\"}"}
MERGE (g:GraphInfo {key: 'graph'})
SET g.info = $info, g.pushed_at = datetime();
