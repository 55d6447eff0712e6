"""The one error a person can act on: bad input, a missing setting, a refused change.

Domain code raises it (or a subclass); each entry point shows its text in its own way: the CLI
as one line and a non-zero exit, the dashboard as a message beside the form.
"""


class HelplineError(Exception):
    """A refusal with a readable reason, never a traceback."""
