"""Package list for setuptools (everything else is in pyproject.toml).

The Cypher library (``cypher/``) is not a Python package; it ships inside the
wheel as ``graph/cypher/`` so that an installed ``bellwether`` finds its
statements (``graph.cypher_library`` looks beside the packages first, as in a
checkout or an editable install).
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["graph*", "loaders*", "algorithms*", "cli*"]) + ["graph.cypher"],
    package_dir={"graph.cypher": "cypher"},  # its files: [tool.setuptools.package-data] in pyproject.toml
)
