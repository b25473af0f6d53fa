"""Service numbers: call centres, banks, short codes; kept out of the person-to-person graph.

A number is a service number when

* it is a short code (3-6 digits, :mod:`bellwether.loaders.msisdn`), reason ``short_code``; or
* many distinct numbers contact it and it rarely contacts them back: in-degree
  (distinct numbers that initiated a contact to it) >= ``min_in_degree``
  (default 100; a person's in-degree in a month is typically below 50) and
  reciprocity (share of those it also initiated a contact to) <= ``max_reciprocity``
  (default 0.05), reason ``high_in_degree``; or
* it contacts many distinct numbers and almost none of them contact it back
  (outbound telemarketing): out-degree >= ``min_out_degree`` (default 100) and
  the share of those numbers that also initiated a contact to it <= ``max_reciprocity``,
  reason ``high_out_degree``.

These thresholds follow the practice of removing call-centre-like hubs before
social analysis (Onnela et al. 2007 kept only reciprocated ties; Nanavati et
al. 2006, "On the structural properties of massive telecom call graphs", CIKM).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceRules:
    min_in_degree: int = 100
    max_reciprocity: float = 0.05
    min_out_degree: int = 100


def service_sql(pairs: str, short_codes: str, rules: ServiceRules = ServiceRules()) -> str:
    """SQL selecting (:data:`bellwether.graph.schema.SERVICE_NUMBERS`) from a pair table with ``a, b, n_ab, n_ba``
    and a relation ``short_codes(id)``."""
    return f"""
WITH ends AS (
  SELECT a AS id, n_ba > 0 AS inc, n_ab > 0 AS outg FROM {pairs}
  UNION ALL SELECT b, n_ab > 0, n_ba > 0 FROM {pairs}
), deg AS (
  SELECT id, count(*) FILTER (inc)::BIGINT AS in_degree, count(*) FILTER (outg)::BIGINT AS out_degree,
         count(*) FILTER (inc AND outg)::DOUBLE / greatest(count(*) FILTER (inc), 1) AS reciprocity,
         count(*) FILTER (inc AND outg)::DOUBLE / greatest(count(*) FILTER (outg), 1) AS out_reciprocity
  FROM ends GROUP BY id
), flagged AS (
  SELECT *, in_degree >= {int(rules.min_in_degree)} AND reciprocity <= {float(rules.max_reciprocity)!r} AS inbound_hub,
         out_degree >= {int(rules.min_out_degree)} AND out_reciprocity <= {float(rules.max_reciprocity)!r} AS outbound_hub
  FROM deg
)
SELECT coalesce(s.id, d.id) AS id,
       CASE WHEN s.id IS NOT NULL THEN 'short_code' WHEN d.inbound_hub THEN 'high_in_degree' ELSE 'high_out_degree' END AS reason,
       coalesce(d.in_degree, 0) AS in_degree, coalesce(d.out_degree, 0) AS out_degree,
       coalesce(CASE WHEN d.inbound_hub OR s.id IS NOT NULL THEN d.reciprocity ELSE d.out_reciprocity END, 0.0) AS reciprocity
FROM (SELECT * FROM flagged WHERE inbound_hub OR outbound_hub OR id IN (SELECT id FROM {short_codes})) d
FULL OUTER JOIN {short_codes} s ON s.id = d.id
ORDER BY id"""
