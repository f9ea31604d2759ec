"""One cog per feature; each module's ``setup(bot)`` builds its cog from the bot's parts."""
