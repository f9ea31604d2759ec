"""The ``factdesk`` command line: a thin front end over the core modules."""

from bot.cli.app import main

__all__ = ["main"]
