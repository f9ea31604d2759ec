"""Flagged claims: the store and its audit log (service), matching flagged claims in text
(matching), and the offline contradiction finder (contradictions). No Discord, no CLI here.

Import from the submodules; this package imports nothing itself so that, e.g., the
contradiction finder does not pull in SQLAlchemy.
"""
