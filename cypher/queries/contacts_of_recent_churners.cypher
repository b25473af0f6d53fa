// Analysts' query library: `bellwether query churn.contacts_of_recent_churners --param since=2025-02-01`,
// or in Neo4j Browser `:param since => '2025-02-01'`, `:param min_weight => 1.0`, `:param limit => 100`.

// name: churn.contacts_of_recent_churners
// params: since: date, min_weight: float, limit: int = 25
// description: Our still-active customers with a close tie (weight at least min_weight) to someone who
//   churned on or after `since`, most churned contacts first: the retention team's call list.
// example: {"since": "2025-02-01", "min_weight": 1.0, "limit": 100}
MATCH (churner:Subscriber)
WHERE churner.churn_date >= date($since)
MATCH (churner)-[t:CONTACT]-(s:Subscriber)
WHERE t.weight >= $min_weight AND s.on_net AND s.churn_date IS NULL
  AND coalesce(s.status, 'active') <> 'churned'
WITH s, count(DISTINCT churner) AS churned_contacts, sum(t.weight) AS weight_to_churners,
     collect(DISTINCT churner.id) AS churners
RETURN s.id AS subscriber, churned_contacts, weight_to_churners, churners, s.churn_risk AS churn_risk,
       s.contagion_score AS contagion_score, s.role AS role, s.community AS community, s.plan AS plan,
       s.arpu AS arpu
ORDER BY churned_contacts DESC, weight_to_churners DESC, subscriber
LIMIT $limit;
