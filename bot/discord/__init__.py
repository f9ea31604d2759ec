"""The Discord front end: translates slash commands, buttons and messages into core calls.

Nothing here decides anything the core decides (permissions, citations, digests);
it only renders core results within Discord's limits and routes errors to one handler.
"""
