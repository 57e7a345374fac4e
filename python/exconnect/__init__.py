"""exconnect — fast, Hummingbot-compatible exchange connectors with a compiled core."""
__version__ = "0.1.0"
