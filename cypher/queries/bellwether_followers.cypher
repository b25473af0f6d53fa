// Analysts' query library: `bellwether query bellwether.followers --param bellwether=<id>`,
// or in Neo4j Browser `:param bellwether => '<id>'`.

// name: bellwether.followers
// params: bellwether: str
// description: The followers of one bellwether (members of its community whose strong, mostly
//   self-initiated tie to it made them followers), with the tie and their churn status.
// example: {"bellwether": "a3f09c2e5b7d1e44"}
MATCH (b:Subscriber {id: $bellwether})-[t:CONTACT]-(f:Subscriber)
WHERE b.role = 'bellwether' AND f.role = 'follower' AND f.community = b.community
WITH b, f, t, startNode(t) = f AS from_follower
RETURN f.id AS follower, t.weight AS weight,
       CASE WHEN from_follower THEN t.calls_ab ELSE t.calls_ba END AS calls_to_bellwether,
       CASE WHEN from_follower THEN t.calls_ba ELSE t.calls_ab END AS calls_from_bellwether,
       f.churned AS churned, f.churn_risk AS churn_risk, f.plan AS plan, f.arpu AS arpu
ORDER BY weight DESC, follower;
