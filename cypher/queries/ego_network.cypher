// Analysts' query library: `bellwether query subscriber.ego_network --param subscriber=<id>`,
// or in Neo4j Browser `:param subscriber => '<id>'` and `:param limit => 50`.

// name: subscriber.ego_network
// params: subscriber: str, limit: int = 25
// description: A subscriber's contacts with the strength of each tie (weight, calls and SMS each way,
//   last contact) and how many of the subscriber's other contacts each one also knows.
// example: {"subscriber": "a3f09c2e5b7d1e44", "limit": 50}
MATCH (ego:Subscriber {id: $subscriber})-[t:CONTACT]-(alter:Subscriber)
WITH ego, alter, t, startNode(t) = ego AS outward
CALL (ego, alter) {
  OPTIONAL MATCH (ego)-[:CONTACT]-(other:Subscriber)-[:CONTACT]-(alter)
  WHERE other <> ego AND other <> alter
  RETURN count(DISTINCT other) AS shared_contacts
}
RETURN alter.id AS contact, t.weight AS weight,
       CASE WHEN outward THEN t.calls_ab ELSE t.calls_ba END AS calls_out,
       CASE WHEN outward THEN t.calls_ba ELSE t.calls_ab END AS calls_in,
       CASE WHEN outward THEN t.sms_ab ELSE t.sms_ba END AS sms_out,
       CASE WHEN outward THEN t.sms_ba ELSE t.sms_ab END AS sms_in,
       t.last_contact AS last_contact, shared_contacts, alter.on_net AS on_net, alter.role AS role,
       alter.community AS community, alter.community = ego.community AS same_community
ORDER BY weight DESC, contact
LIMIT $limit;
