"""The exception family: every error Bellwether raises on purpose derives from :class:`BellwetherError`.

The CLI prints such errors as one line (the message must say what to do) and
exits with status 1; ``--debug`` shows the traceback.
"""


class BellwetherError(Exception):
    """Base of all deliberate Bellwether errors; the message tells the user what to fix."""
