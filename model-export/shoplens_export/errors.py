"""The one exception type the command line turns into a one-line error and a non-zero exit."""


class ExportError(Exception):
    """A problem with the user's input (checkpoint, architecture, output directory), not a bug."""
