"""The text layer: one home per concept, shared by the index, verification and serving code.

* :mod:`~bot.core.text.normalize` — NFKC, quotes and dashes, abbreviations (``U.S.`` = ``US``)
* :mod:`~bot.core.text.sanitize` — the one sanitiser for untrusted text (escapes, controls, bidi, fences)
* :mod:`~bot.core.text.links` — links shown as the host they really lead to
* :mod:`~bot.core.text.sentences` — sentence spans and sentences of a passage
* :mod:`~bot.core.text.markers` — ``[n]`` citation markers
* :mod:`~bot.core.text.dates` — dates written in text ("3 April", "April 3, 2025")
* :mod:`~bot.core.text.words` — tokens, content words, stems, stopwords, opposite predicates
* :mod:`~bot.core.text.negation` — negated sentences and a sentence's stance
* :mod:`~bot.core.text.nlp` — spaCy's pipeline (one copy), its parse cache, parses stored at ingest

This package imports nothing itself: import from the submodules.
"""
