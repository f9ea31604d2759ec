"""factdesk's lowest layer: errors, clock, settings, prompts, the LLM factory, shared models,
the database module (``bot.core.db``) and the text layer (``bot.core.text``).

Everything above may import from here; nothing here imports another factdesk package.
This package imports nothing itself: import from the submodules.
"""
