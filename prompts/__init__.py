"""Prompt templates (YAML, validated by bot.core.prompts). A package only so that the wheel installs the folder beside bot/."""
