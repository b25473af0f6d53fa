// Constraints and indexes of the Bellwether graph. Idempotent: run it as often as you like
// (`bellwether neo4j schema`, or `cypher-shell -f cypher/schema.cypher`).

// name: schema.subscriber_id
// params:
// description: Each subscriber pseudonym is one node; also the index every load and look-up uses.
CREATE CONSTRAINT subscriber_id IF NOT EXISTS
FOR (s:Subscriber) REQUIRE s.id IS UNIQUE;

// name: schema.community_id
// params:
// description: Each community id is one node.
CREATE CONSTRAINT community_id IF NOT EXISTS
FOR (c:Community) REQUIRE c.id IS UNIQUE;

// name: schema.coarse_community_id
// params:
// description: Each coarse community (wider group) id is one node.
CREATE CONSTRAINT coarse_community_id IF NOT EXISTS
FOR (c:CoarseCommunity) REQUIRE c.id IS UNIQUE;

// name: schema.load_batch_key
// params:
// description: Each load batch commits once: a second commit of the same batch fails and rolls back.
CREATE CONSTRAINT load_batch_key IF NOT EXISTS
FOR (b:LoadBatch) REQUIRE b.key IS UNIQUE;

// name: schema.subscriber_community
// params:
// description: Members of a community, for analysts' queries after write-back.
CREATE INDEX subscriber_community IF NOT EXISTS
FOR (s:Subscriber) ON (s.community);

// name: schema.subscriber_coarse_community
// params:
// description: Members of a coarse community (wider group), for analysts' queries after write-back.
CREATE INDEX subscriber_coarse_community IF NOT EXISTS
FOR (s:Subscriber) ON (s.coarse_community);

// name: schema.subscriber_role
// params:
// description: Subscribers by role (bellwether, follower, bridge...), for target-list queries.
CREATE INDEX subscriber_role IF NOT EXISTS
FOR (s:Subscriber) ON (s.role);

// name: schema.community_size
// params:
// description: Communities by size, for "largest communities" queries.
CREATE INDEX community_size IF NOT EXISTS
FOR (c:Community) ON (c.size);

// name: schema.await_indexes
// params:
// description: Wait until every index is online before loading.
CALL db.awaitIndexes(300);
