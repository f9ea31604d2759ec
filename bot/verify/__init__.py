"""Verification, the "contradictions" layer: whether a source supports a sentence (citations),
where statements conflict (contradictions, disagreements), and the LLM contradiction finder.

Above ``index`` and ``bot.core``; below answers, claims and digests, which all use it.
This package imports nothing itself: import from the submodules.
"""
