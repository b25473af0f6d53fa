// Analysts' query library: `bellwether query bellwether.off_net_contacts --param min_bellwethers=1`,
// or in Neo4j Browser `:param min_bellwethers => 1` and `:param limit => 100`.

// name: bellwether.off_net_contacts
// params: min_bellwethers: int, limit: int = 25
// description: Numbers of other operators (personal, not service numbers) in contact with at least
//   min_bellwethers of our bellwethers: acquisition prospects, most bellwether ties first.
// example: {"min_bellwethers": 1, "limit": 100}
MATCH (b:Subscriber {role: 'bellwether'})-[t:CONTACT]-(o:Subscriber)
WHERE b.on_net AND NOT coalesce(o.on_net, false) AND coalesce(o.kind, 'person') = 'person'
WITH o, count(DISTINCT b) AS bellwethers, sum(t.weight) AS weight_to_bellwethers,
     collect(DISTINCT b.id) AS bellwether_ids, collect(DISTINCT b.community) AS communities
WHERE bellwethers >= $min_bellwethers
RETURN o.id AS number, bellwethers, weight_to_bellwethers, bellwether_ids, communities,
       o.degree AS contacts
ORDER BY bellwethers DESC, weight_to_bellwethers DESC, number
LIMIT $limit;
