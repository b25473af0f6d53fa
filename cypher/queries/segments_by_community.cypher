// Analysts' query library: `bellwether query segment.by_community --param segment=value_tier`,
// or in Neo4j Browser `:param segment => 'value_tier'` and `:param min_size => 5`.

// name: segment.by_community
// params: segment: str, min_size: int = 10
// description: For each community of at least min_size members, how its members split over one segment
//   (value_tier, behaviour, usage_mix, cluster, cluster_label...): count and share per segment value.
// example: {"segment": "value_tier", "min_size": 5}
MATCH (c:Community)<-[:MEMBER_OF]-(s:Subscriber)
WHERE c.size >= $min_size
WITH c, s[$segment] AS value, count(*) AS subscribers
WITH c, collect({value: value, subscribers: subscribers}) AS groups, sum(subscribers) AS members
UNWIND groups AS g
RETURN c.id AS community, g.value AS segment_value, g.subscribers AS subscribers,
       toFloat(g.subscribers) / members AS share
ORDER BY community, subscribers DESC, toString(segment_value);
