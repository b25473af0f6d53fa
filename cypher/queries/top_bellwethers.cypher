// Analysts' query library: run with `bellwether query NAME --param key=value`, or paste into Neo4j
// Browser after setting the parameters, e.g. `:param community => 0` and `:param limit => 5`.

// name: community.top_bellwethers
// params: community: int, limit: int = 25
// description: The members of one community ranked by bellwether score: who leads the group,
//   with the PageRank, tie strength and churn risk behind the rank.
// example: {"community": 0, "limit": 5}
MATCH (c:Community {id: $community})<-[:MEMBER_OF]-(s:Subscriber)
RETURN s.id AS subscriber, s.role AS role, s.community_rank AS community_rank,
       s.bellwether_score AS bellwether_score, s.pagerank AS pagerank, s.strength AS strength,
       s.degree AS contacts, s.on_net AS on_net, s.churn_risk AS churn_risk
ORDER BY bellwether_score DESC, pagerank DESC, subscriber
LIMIT $limit;
