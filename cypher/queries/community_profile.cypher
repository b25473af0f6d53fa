// Analysts' query library: `bellwether query community.profile --param community=3`,
// or in Neo4j Browser `:param community => 3`.

// name: community.profile
// params: community: int
// description: One community at a glance: size, members by role, on-net share, churn so far, mean churn
//   risk and ARPU, its most common plan and its top bellwether.
// example: {"community": 3}
MATCH (c:Community {id: $community})<-[:MEMBER_OF]-(s:Subscriber)
WITH c, count(s) AS members,
     sum(CASE WHEN s.on_net THEN 1 ELSE 0 END) AS on_net,
     sum(CASE s.role WHEN 'bellwether' THEN 1 ELSE 0 END) AS bellwethers,
     sum(CASE s.role WHEN 'follower' THEN 1 ELSE 0 END) AS followers,
     sum(CASE s.role WHEN 'bridge' THEN 1 ELSE 0 END) AS bridges,
     sum(CASE WHEN s.churned THEN 1 ELSE 0 END) AS churned,
     avg(CASE WHEN NOT coalesce(s.churned, false) THEN s.churn_risk END) AS mean_churn_risk,
     avg(s.arpu) AS mean_arpu
CALL (c) {
  OPTIONAL MATCH (c)<-[:MEMBER_OF]-(p:Subscriber)
  WHERE p.plan IS NOT NULL
  WITH p.plan AS plan, count(*) AS n
  ORDER BY n DESC, plan
  LIMIT 1
  RETURN plan AS top_plan
}
RETURN c.id AS community, members, on_net, bellwethers, followers, bridges, churned,
       c.churn_rate AS churn_rate, c.recent_churners AS recent_churners, mean_churn_risk, mean_arpu,
       top_plan, c.internal_density AS internal_density, c.bellwether AS top_bellwether;
