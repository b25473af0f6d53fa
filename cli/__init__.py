"""The ``bellwether`` command line: a thin shell over the library."""
