// Analysts' query library: `bellwether query churn.by_churned_contacts --param as_of=2025-03-01`,
// or in Neo4j Browser `:param as_of => '2025-03-01'`, `:param horizon_days => 30`, `:param max_contacts => 5`.

// name: churn.by_churned_contacts
// params: as_of: date, horizon_days: int, max_contacts: int
// description: Churn rate in the horizon_days after as_of of our customers still active at as_of, by how
//   many of their contacts had churned before as_of (the last group is "max_contacts or more"): the
//   contagion curve that says whether churn spreads along ties.
// example: {"as_of": "2025-03-01", "horizon_days": 30, "max_contacts": 5}
MATCH (s:Subscriber)
WHERE s.on_net AND coalesce(s.kind, 'person') = 'person'
  AND (s.churn_date IS NULL OR s.churn_date >= date($as_of))
CALL (s) {
  OPTIONAL MATCH (s)-[:CONTACT]-(c:Subscriber)
  WHERE c.churn_date < date($as_of)
  RETURN count(DISTINCT c) AS k
}
WITH CASE WHEN k >= $max_contacts THEN $max_contacts ELSE k END AS churned_contacts,
     CASE WHEN s.churn_date < date($as_of) + duration({days: $horizon_days}) THEN 1 ELSE 0 END AS churned
RETURN churned_contacts, count(*) AS subscribers, sum(churned) AS churned,
       toFloat(sum(churned)) / count(*) AS churn_rate
ORDER BY churned_contacts;
