"""Caller authentication: one-time codes sent to the contact on file."""
