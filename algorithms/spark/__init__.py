"""Graph measures on Apache Spark, for contact graphs that do not fit one machine.

The same measures the single-machine pipeline computes, on PySpark DataFrames holding the
graph tables of :mod:`bellwether.graph.schema` (``subscribers``: ``vid``, ``churn_date``...;
``contacts``: one row per unordered pair with ``a_vid``, ``b_vid``, the directed counts and
``weight``), with no graph library on the cluster (plain DataFrame joins and aggregations):

- :mod:`~bellwether.graph.core.spark` (outside this package): the one place a SparkSession is made;
- :mod:`~bellwether.algorithms.spark.frames`: graph tables into Spark, the directed arcs,
  results back to pandas;
- :mod:`~bellwether.algorithms.spark.degree`: degree, strength, reciprocity;
- :mod:`~bellwether.algorithms.spark.churn_state`: what is known about churn at ``as_of``;
- :mod:`~bellwether.algorithms.spark.exposure`: the churn model's churned-neighbour features;
- :mod:`~bellwether.algorithms.spark.spreading`: spreading activation from recent churners;
- :mod:`~bellwether.algorithms.spark.power`: PageRank and the personalised-PageRank contagion
  score by power iteration;
- :mod:`~bellwether.algorithms.spark.measures`: all of them as one table per subscriber.

Every function takes DataFrames and parameters and returns a DataFrame keyed by ``vid``; the
references each one follows are in its docstring, and ``tests/algorithms/test_spark_measures.py`` checks
them against the igraph engine and :func:`bellwether.algorithms.churn.features.churn_features`.
Needs the ``spark`` extra (``pyspark``) and a Java runtime.
"""
