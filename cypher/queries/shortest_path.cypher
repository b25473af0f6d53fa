// Analysts' query library: `bellwether query subscriber.shortest_path --param source=<id> --param target=<id>`,
// or in Neo4j Browser `:param source => '<id>'` and `:param target => '<id>'`.

// name: subscriber.shortest_path
// params: source: str, target: str
// description: The fewest contacts linking two subscribers (at most 12 hops), with each subscriber's
//   community and role on the way and the weight of each tie; no row when they are not connected.
// example: {"source": "a3f09c2e5b7d1e44", "target": "0b6e2d91c4a7f350"}
MATCH (a:Subscriber {id: $source})
MATCH (b:Subscriber {id: $target})
WHERE a <> b
MATCH p = shortestPath((a)-[:CONTACT*..12]-(b))
RETURN length(p) AS hops, [n IN nodes(p) | n.id] AS path,
       [n IN nodes(p) | n.community] AS communities, [n IN nodes(p) | n.role] AS roles,
       [r IN relationships(p) | r.weight] AS weights;
