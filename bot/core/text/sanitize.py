"""Untrusted text (articles, feeds, model replies, what users type) made inert: the one sanitiser.

Applied where text enters (ingest cleaning, LLM replies, questions, claims) and again where
it leaves, since an index or database written by an older version may still hold anything:

* :func:`clean_untrusted` — terminal escape sequences (CSI colours, OSC 8 hyperlinks, DCS…),
  control characters (NUL, ESC, C1), invisible format characters (bidi overrides and isolates,
  Unicode tag characters, zero-width spaces) and lone surrogates. The classes are Unicode's
  general categories (``Cc``, ``Cf``, ``Cs``), not a hand list.
* :func:`fence` — article text inside a prompt cannot close or open our delimiters.
* :func:`strip_fences` — delimiter lookalikes removed from text readers see quoted.
* :func:`prompt_attribute` — a value inside a prompt's ``name="…"`` attribute.
* :func:`quoted` — what readers see of an article sentence: all of the above, reference markers gone.
* :func:`clean_reply` — a model's reply, which may echo what the sources carried.

Escaping for one medium (Rich markup, Discord markdown) stays with that medium's renderer.
"""

from __future__ import annotations

import html
import re

import regex

from bot.core.text.markers import strip_source_markers

# ECMA-48 sequences, removed whole so no "[31m" remnant is left: CSI (7- and 8-bit), the string
# commands OSC/DCS/SOS/PM/APC up to their terminator (never past a line end), other ESC escapes.
_TERMINAL_ESCAPE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[!-/]*[0-~]"
)
# Line breaks other than "\n" (CR, NEL, VT, FF, the Unicode line and paragraph separators).
_LINE_BREAK = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
# Controls except tab and newline, format characters except the joiners scripts and emoji need
# (ZWNJ, ZWJ), and surrogates (a lone one cannot be encoded as UTF-8).
_UNSAFE = regex.compile(r"[\p{Cc}\p{Cf}\p{Cs}--[\t\n\u200c\u200d]]", regex.VERSION1)
_SURROGATE = regex.compile(r"\p{Cs}")

_DELIMITER = re.compile(r"</?\s*(sources?|system|instructions?)\b[^>]*>", re.IGNORECASE)
_FENCED_DELIMITER = re.compile(r"[<‹]\s*/?\s*(?:sources?|system|instructions?)\b[^>›]*[>›]", re.IGNORECASE)


def clean_untrusted(text: str) -> str:
    """``text`` without escape sequences, control and format characters; lone surrogates as U+FFFD.

    Tabs and newlines stay (other line breaks become newlines); everything a reader can see stays.
    """
    if text.isascii() and text.isprintable():
        return text
    text = _TERMINAL_ESCAPE.sub("", _LINE_BREAK.sub("\n", text))
    text = _SURROGATE.sub("\ufffd", text)
    return _UNSAFE.sub("", text)


def clean_inline(text: str) -> str:
    """:func:`clean_untrusted` on one line: titles, names, table cells, one-line messages."""
    return " ".join(clean_untrusted(text).split())


def fence(text: str) -> str:
    """Neutralise anything in article text that looks like our delimiters."""
    return _DELIMITER.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), text)


def strip_fences(text: str) -> str:
    """Delimiter lookalikes (``</sources>``, or its fenced ``‹/sources›``) removed from reader text."""
    if "<" not in text and "‹" not in text:
        return text
    return " ".join(_FENCED_DELIMITER.sub(" ", text).split())


def prompt_attribute(value: str) -> str:
    """A value for a prompt's ``name="…"`` attribute: one clean line, quotes and brackets escaped."""
    return html.escape(clean_inline(value), quote=True)


def quoted(text: str) -> str:
    """An article sentence as readers see it in answers and digests.

    Clean (see :func:`clean_untrusted`), without the article's own ``[7]`` reference markers
    (they would read as factdesk's citations) and without delimiter lookalikes.
    """
    return strip_source_markers(strip_fences(clean_untrusted(text)))


def clean_reply(text: str) -> str:
    """A language model's reply made inert: clean, and without delimiter lookalikes it echoed.

    Its ``[n]`` citations stay: they are checked against the sources afterwards.
    """
    return strip_fences(clean_untrusted(text))
