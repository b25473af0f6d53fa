// The server itself: is it there, which versions, which schema objects exist. Read-only.

// name: server.ping
// params:
// description: One row when the server answers queries on the store's database.
RETURN 1 AS ok;

// name: server.components
// params:
// description: The Neo4j version and edition.
CALL dbms.components() YIELD name, versions, edition
RETURN versions[0] AS v, edition;

// name: server.gds_version
// params:
// description: The Graph Data Science library's version (fails when the plugin is missing).
RETURN gds.version() AS version;

// name: server.constraints
// params:
// description: Names of the database's constraints.
SHOW CONSTRAINTS YIELD name
RETURN name ORDER BY name;

// name: server.indexes
// params:
// description: Names of the database's indexes.
SHOW INDEXES YIELD name
RETURN name ORDER BY name;

// name: server.node_ids
// params:
// description: Internal node id and pseudonym of every subscriber: maps GDS results (by node id) back to ids.
MATCH (s:Subscriber)
RETURN id(s) AS node, s.id AS id;
