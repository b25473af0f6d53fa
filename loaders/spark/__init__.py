"""The CDR load on Apache Spark (``bellwether build --engine spark``): the loader's rules, run in Spark tasks.

- :mod:`.fields`: lines of a CSV file into text fields, as the DuckDB reader splits them (pure);
- :mod:`.rows`: the per-batch task: fields -> typed rows -> the loader's compiled checks
  (:func:`bellwether.loaders.validate.check_batch`) -> valid rows, bad rows, unreadable lines (pure);
- :mod:`.records`: the keyed pseudonyms of valid rows, computed in the same task (pure);
- :mod:`.load`: one input through Spark, then the loader's own accounting, quarantine and manifest
  (:func:`bellwether.loaders.load.finish_cdr`).
"""
