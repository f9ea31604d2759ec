"""Prompt templates (YAML, validated by bot.core.prompts); package data, so an installed wheel has them."""
