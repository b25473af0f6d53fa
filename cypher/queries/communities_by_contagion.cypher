// Analysts' query library: `bellwether query community.ranked_by_contagion --param min_size=5`,
// or in Neo4j Browser `:param min_size => 5` and `:param limit => 20`.

// name: community.ranked_by_contagion
// params: min_size: int = 10, limit: int = 25
// description: Communities of at least min_size members ranked by the mean churn-contagion score of their
//   remaining customers, with recent churners and members who lost a contact: where churn is spreading.
// example: {"min_size": 5, "limit": 20}
MATCH (c:Community)<-[:MEMBER_OF]-(s:Subscriber)
WHERE c.size >= $min_size
WITH c,
     avg(CASE WHEN NOT coalesce(s.churned, false) THEN s.contagion_score END) AS mean_contagion,
     max(CASE WHEN NOT coalesce(s.churned, false) THEN s.contagion_score END) AS max_contagion,
     avg(CASE WHEN NOT coalesce(s.churned, false) THEN s.churn_risk END) AS mean_churn_risk,
     sum(CASE WHEN NOT coalesce(s.churned, false) AND s.churned_contacts > 0 THEN 1 ELSE 0 END)
       AS members_with_churned_contacts
RETURN c.id AS community, c.size AS size, mean_contagion, max_contagion, mean_churn_risk,
       c.recent_churners AS recent_churners, members_with_churned_contacts, c.churn_rate AS churn_rate,
       c.bellwether AS bellwether
ORDER BY mean_contagion DESC, recent_churners DESC, community
LIMIT $limit;
