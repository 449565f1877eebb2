"""ivr: voice self-service for Asterisk."""

__version__ = "0.1.0"
