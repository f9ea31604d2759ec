"""The application layer: :class:`Factdesk` assembles every part from settings, once.

Front ends (the CLI, the Discord bot, the evaluation, a script) receive a ``Factdesk`` and
type against the Protocols of :mod:`bot.app.services`; :class:`~bot.app.admin.IndexAdmin`
is the index facade (ingest, stats, suggested flags) any front end can use.
"""

from bot.app.admin import IndexAdmin
from bot.app.factdesk import Factdesk

__all__ = ["Factdesk", "IndexAdmin"]
