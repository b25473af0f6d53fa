"""The subscriber extract (CRM): who is our customer, with plan, ARPU, tenure, region, status and churn date.

CSV (or Parquet) with columns ``msisdn, plan, arpu, tenure_months, region,
status, churn_date`` (names mappable with ``--map``; all but ``msisdn``
optional).  Values are validated like CDR fields (one quarantine row per
problem); the number is normalised and pseudonymised.  Each extract is stored
as ``WORKSPACE/subscribers/<hash>.parquet`` with a load sequence number ``seq``;
the graph build keeps, per id, the row of the latest extract.
"""

from __future__ import annotations

from bellwether.loaders.msisdn import trim_sql

COLUMNS = ("msisdn", "plan", "arpu", "tenure_months", "region", "status", "churn_date")
OPTIONAL = COLUMNS[1:]
BAD_FIELDS = ("line", "bad_file", "raw_msisdn", "raw_arpu", "raw_tenure_months", "raw_churn_date")

# (bit, reason, column, note)
FLAGS: tuple[tuple[int, str, str, str], ...] = (
    (1, "missing_number", "msisdn", ""),
    (2, "bad_number", "msisdn", ""),
    (4, "bad_value", "arpu", "a decimal number"),
    (8, "bad_value", "tenure_months", "a whole non-negative number of months"),
    (16, "bad_value", "churn_date", "a date YYYY-MM-DD or empty"),
)


def stage_sql(raw: str, code: str) -> str:
    """Typed subscriber rows from a raw relation with VARCHAR columns ``file, line`` and :data:`COLUMNS`.

    ``c`` is the SQL expression ``code`` on the trimmed ``msisdn`` column: the phone number's code
    (the loader registers the compiled rule of :func:`bellwether.loaders.kernels.phone_codes` as a
    function), or the code of an opaque id; ``token`` is the trimmed ``msisdn`` text.
    """
    return f"""
SELECT line, c, msisdn AS token, plan, arpu, tenure_months, region, status, churn_date, flags,
  CASE WHEN flags <> 0 THEN concat_ws(chr(31), line, file, coalesce(raw_msisdn, ''), coalesce(raw_arpu, ''),
    coalesce(raw_tenure_months, ''), coalesce(raw_churn_date, '')) END AS bad
FROM (
  SELECT *, ((CASE WHEN c IS NULL THEN (CASE WHEN msisdn_empty THEN 1 ELSE 2 END) ELSE 0 END)
    + (CASE WHEN arpu IS NULL AND NOT arpu_empty THEN 4 ELSE 0 END)
    + (CASE WHEN tenure_months IS NULL AND NOT tenure_empty THEN 8 ELSE 0 END)
    + (CASE WHEN churn_date IS NULL AND NOT churn_empty THEN 16 ELSE 0 END))::INTEGER AS flags
  FROM (
    SELECT file, line, {code} AS c, msisdn,
      msisdn IS NULL OR trim(msisdn) = '' AS msisdn_empty,
      nullif(trim(plan), '') AS plan,
      TRY_CAST(nullif(trim(arpu), '') AS DOUBLE) AS arpu, arpu IS NULL OR trim(arpu) = '' AS arpu_empty,
      CASE WHEN regexp_full_match(tenure_months, ' *[0-9]* *') THEN TRY_CAST(nullif(trim(tenure_months), '') AS INTEGER) END AS tenure_months,
      tenure_months IS NULL OR trim(tenure_months) = '' AS tenure_empty,
      nullif(trim(region), '') AS region, lower(nullif(trim(status), '')) AS status,
      TRY_CAST(nullif(trim(churn_date), '') AS DATE) AS churn_date, churn_date IS NULL OR trim(churn_date) = '' AS churn_empty,
      msisdn AS raw_msisdn, arpu AS raw_arpu, tenure_months AS raw_tenure_months, churn_date AS raw_churn_date
    FROM (SELECT * REPLACE ({trim_sql('msisdn')} AS msisdn) FROM ({raw}))))"""
