// Pull side: read the graph back as the workspace's tables (graph/schema.py SUBSCRIBERS, CONTACTS).

// name: pull.subscribers
// params:
// description: Every subscriber with the columns of the subscribers table, ordered by id (vid = row number).
MATCH (s:Subscriber)
RETURN s.id AS id, s.on_net AS on_net, s.kind AS kind, s.plan AS plan, s.arpu AS arpu,
       s.tenure_months AS tenure_months, s.region AS region, s.status AS status, s.churn_date AS churn_date
ORDER BY id;

// name: pull.contacts
// params:
// description: Every contact with the columns of the contacts table, from a to b.
MATCH (x:Subscriber)-[c:CONTACT]->(y:Subscriber)
RETURN x.id AS a, y.id AS b, c.calls_ab AS calls_ab, c.calls_ba AS calls_ba, c.seconds_ab AS seconds_ab,
       c.seconds_ba AS seconds_ba, c.sms_ab AS sms_ab, c.sms_ba AS sms_ba, c.first_contact AS first_contact,
       c.last_contact AS last_contact, c.active_days AS active_days, c.night_share AS night_share,
       c.reciprocity AS reciprocity, c.weight AS weight;

// name: pull.graph_info
// params:
// description: How the pushed graph was built (graph.json of the workspace, as JSON text), or no row.
MATCH (g:GraphInfo {key: 'graph'})
RETURN g.info AS info;
