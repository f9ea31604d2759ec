"""Answering questions about indexed news with verified, numbered citations."""
