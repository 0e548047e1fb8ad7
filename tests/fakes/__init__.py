"""Faithful fakes of what these machines cannot reach: a keychain, the ngrok and cloudflared agents, Sinch's API."""
