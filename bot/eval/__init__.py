"""Evaluation harnesses (MultiHop-RAG retrieval and answer metrics)."""
