"""sarai-satellite: a local voice assistant and Wyoming provider on a small CPU box."""

__version__ = "0.1.0"

__all__ = ["__version__"]
