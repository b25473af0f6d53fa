// Analysts' query library: `bellwether query bellwether.at_risk --param min_risk=0.3`,
// or in Neo4j Browser `:param min_risk => 0.3` and `:param limit => 50`.

// name: bellwether.at_risk
// params: min_risk: float, limit: int = 25
// description: Bellwethers who are still customers and whose churn risk is at least min_risk, with how
//   many followers would feel it: losing a bellwether puts the whole group at risk.
// example: {"min_risk": 0.3, "limit": 50}
MATCH (b:Subscriber {role: 'bellwether'})
WHERE b.churn_risk >= $min_risk AND NOT coalesce(b.churned, false) AND b.churn_date IS NULL
CALL (b) {
  OPTIONAL MATCH (b)-[:CONTACT]-(f:Subscriber {role: 'follower'})
  WHERE f.community = b.community
  RETURN count(DISTINCT f) AS followers
}
OPTIONAL MATCH (b)-[:MEMBER_OF]->(c:Community)
RETURN b.id AS bellwether, b.community AS community, c.size AS community_size, followers,
       b.churn_risk AS churn_risk, b.contagion_score AS contagion_score,
       b.churned_contacts AS churned_contacts, b.plan AS plan, b.arpu AS arpu
ORDER BY churn_risk DESC, followers DESC, bellwether
LIMIT $limit;
