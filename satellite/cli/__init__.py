"""The ``satellite`` command line."""
