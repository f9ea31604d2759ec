"""factdesk's write path: load, clean, chunk, embed and store news articles."""
