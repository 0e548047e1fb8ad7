"""Sinch REST clients over httpx: credentials, OAuth, Voice App callback URLs, Conversation webhooks."""
