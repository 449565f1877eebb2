"""Know the caller: CRM lookup, greeting, contact history and transfer context."""
