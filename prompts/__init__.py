"""Prompt templates (YAML, validated by bot.core.prompts); a package only so the wheel installs the folder."""
