"""factdesk's serving side: answering, digests, claims, and the Discord and CLI front ends."""
