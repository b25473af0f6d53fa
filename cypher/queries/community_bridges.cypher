// Analysts' query library: `bellwether query community.bridges --param community_a=1 --param community_b=2`,
// or in Neo4j Browser `:param community_a => 1`, `:param community_b => 2`, `:param limit => 20`.

// name: community.bridges
// params: community_a: int, community_b: int, limit: int = 25
// description: The contacts that tie two communities together, strongest first, with the role of the
//   subscriber at each end: where news (and churn) crosses from one group to the other.
// example: {"community_a": 1, "community_b": 2, "limit": 20}
MATCH (:Community {id: $community_a})<-[:MEMBER_OF]-(a:Subscriber)-[t:CONTACT]-(b:Subscriber)
      -[:MEMBER_OF]->(:Community {id: $community_b})
RETURN a.id AS subscriber_a, a.role AS role_a, b.id AS subscriber_b, b.role AS role_b,
       t.weight AS weight, t.last_contact AS last_contact
ORDER BY weight DESC, subscriber_a, subscriber_b
LIMIT $limit;
