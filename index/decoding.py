"""Bytes to text: the one decoder for every file and HTTP body the write path reads.

Text, Markdown, HTML, JSON, JSONL and feed files and fetched pages all go through
:func:`decode_text`, so they agree on what an encoding is and on what is not text.
The encoding is chosen in this order:

1. a byte-order mark (UTF-8, UTF-16 or UTF-32, either byte order): the bytes must then decode with it;
2. a declared charset (the HTTP header; for markup also ``<?xml encoding>`` or ``<meta charset>``),
   when the bytes decode with it;
3. UTF-8;
4. detection by charset-normalizer (a BOM-less UTF-16/32 guess only when the bytes contain NULs,
   which ASCII-range UTF-16 always does); Windows-1252 wins among equally good Western codecs;
5. UTF-8 with a few corrupt bytes (valid multi-byte sequences far outnumber the broken ones): lossy.

Whatever is chosen must then read as text: a high share of control characters or replacement
characters, or charset-normalizer's "mess" measure above its own threshold, is refused as
garbage rather than indexed as mojibake. Every refusal is a one-line :class:`SourceError`.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

from bot.core.errors import SourceError

log = logging.getLogger(__name__)

# Longest first: the UTF-32-LE mark begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""")
# Characters that never occur in prose: C0/C1 controls other than whitespace and ESC
# (terminal escapes are text to neutralise, not a sign of binary data), and U+FFFD.
_NOT_TEXT = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f\ufffd\ufffe\uffff]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f]")

# charset-normalizer's own default: above this "mess" ratio a decoding is not text.
MAX_MESS_RATIO = 0.2
# Share of characters that may be controls or replacement characters.
MAX_NOT_TEXT_SHARE = 0.05
# Lossy UTF-8 only when valid non-ASCII characters outnumber the broken bytes this much.
UTF8_MAJORITY = 10
# The mess measure is taken on at most this many characters from each end of a long text.
_SAMPLE_CHARS = 128 * 1024
_WESTERN = "cp1252"
_CHAOS_MARGIN = 0.1
_COHERENCE_TIE = 0.05
# Legacy encodings actually met in news text and on the web (WHATWG's list, less the rare ones).
_COMMON = frozenset(
    {
        *(f"cp{n}" for n in range(1250, 1259)),
        *(f"iso8859_{n}" for n in (1, 2, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15, 16)),
        "koi8_r",
        "koi8_u",
        "cp874",
        "tis_620",
        "cp932",
        "shift_jis",
        "euc_jp",
        "iso2022_jp",
        "gb2312",
        "gbk",
        "gb18030",
        "big5",
        "big5hkscs",
        "cp949",
        "euc_kr",
        "latin_1",
    }
)
_WIDE = ("utf_16", "utf_32")


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text and the codec it was decoded with (a Python codec name)."""

    text: str
    encoding: str
    lossy: bool = False


def sniff_charset(data: bytes) -> str | None:
    """The encoding a document declares for itself: BOM, ``<?xml encoding>`` or ``<meta charset>``."""
    bom = _bom(data)
    if bom is not None:
        return bom[1]
    head = data[:2048]
    match = _XML_ENCODING.match(head.lstrip()) or _META_CHARSET.search(head)
    if match:
        name = match.group(1).decode("ascii", "replace")
        if codec_known(name) and not _is_wide(name):  # a UTF-16 label in ASCII bytes is a lie (HTML spec)
            return name
    return None


def decode_text(data: bytes, source: str, *, declared: str | None = None, markup: bool = False) -> Decoded:
    """Decode ``data`` (see the module docstring) or raise a one-line SourceError.

    ``declared`` is a charset from outside the bytes (an HTTP header); ``markup`` also
    honours a charset the document declares itself (HTML, XML feeds).
    """
    decoded = _choose(data, source, declared, markup)
    problem = garbage_reason(decoded.text, strict_utf8=_is_utf8(decoded.encoding) and not decoded.lossy)
    if problem:
        raise SourceError(source, f"not readable text: {problem} (read as {decoded.encoding})")
    return decoded


def garbage_reason(text: str, *, strict_utf8: bool = False) -> str | None:
    """Why ``text`` is not prose in any language (None when it reads as text).

    Valid UTF-8 is only checked for control characters: random bytes are never valid
    UTF-8, and symbol-heavy text (prices, emoji, tables) would upset the mess measure.
    """
    if not text:
        return None
    bad = len(_NOT_TEXT.findall(text))
    if bad > max(2, len(text) * MAX_NOT_TEXT_SHARE):
        return f"{bad} control or replacement characters in {len(text)}"
    if strict_utf8:
        return None
    sample = text if len(text) <= 2 * _SAMPLE_CHARS else text[:_SAMPLE_CHARS] + "\n" + text[-_SAMPLE_CHARS:]
    # Terminal escapes are neutralised later; they must not make a good decoding look like a mess.
    if mess_ratio(_CONTROLS.sub("", sample), MAX_MESS_RATIO) >= MAX_MESS_RATIO:
        return "it decodes to a jumble of unrelated letters and symbols"
    return None


def codec_known(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _choose(data: bytes, source: str, declared: str | None, markup: bool) -> Decoded:
    bom = _bom(data)
    if bom is not None:
        mark, codec, label = bom
        try:
            return Decoded(data[len(mark) :].decode(codec), codec)
        except UnicodeDecodeError:
            raise SourceError(source, f"not valid {label} text despite its byte-order mark") from None
    refused: list[str] = []
    for name in (declared, sniff_charset(data) if markup else None):
        if name and codec_known(name):
            try:
                text = data.decode(name)
            except UnicodeDecodeError:
                log.debug("%s: declared charset %s does not decode the bytes", source, name)
                refused.append(name)
                continue
            if garbage_reason(text, strict_utf8=_is_utf8(name)) is None:
                return Decoded(text, "utf-8" if _is_utf8(name) else name.lower())
            log.debug("%s: declared charset %s gives garbage", source, name)
            refused.append(name)
    if b"\x00" in data:  # valid UTF-8 perhaps, but text has no NULs: UTF-16/32 without a mark, or binary
        wide = _detect(data)
        try:
            wide_text = data.decode(wide) if wide else None
        except UnicodeDecodeError:
            wide_text = None
        if wide is None or wide_text is None:
            raise SourceError(source, "binary file (contains NUL bytes), not text")
        log.info("%s has no byte-order mark; read it as %s", source, wide)
        return Decoded(wide_text, wide)
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    lossy = data.decode("utf-8", errors="replace")
    broken = lossy.count("\ufffd")
    valid_non_ascii = len(lossy) - len(lossy.encode("ascii", "ignore")) - broken
    if valid_non_ascii >= UTF8_MAJORITY * broken:
        log.info("%s: %d bytes are not valid UTF-8; replaced them", source, broken)
        return Decoded(lossy, "utf-8", lossy=True)
    guess = _detect(data)
    if guess is not None:
        try:
            text = data.decode(guess)
        except UnicodeDecodeError:  # charset-normalizer samples very large inputs
            log.debug("%s: detected %s but it does not decode every byte", source, guess)
        else:
            log.info("%s is not UTF-8; read it as %s", source, guess)
            return Decoded(text, guess)
    if refused:
        names = " or ".join(dict.fromkeys(refused))
        raise SourceError(source, f"not readable text in its declared charset {names}, nor in any other encoding")
    raise SourceError(source, "not UTF-8 text, and no other encoding reads it as text")


def _detect(data: bytes) -> str | None:
    """charset-normalizer's best plausible codec, or None when it cannot tell."""
    wide = b"\x00" in data  # NULs: only UTF-16/32 can make text of it; without them, never guess those
    matches = [m for m in from_bytes(data, threshold=MAX_MESS_RATIO) if _is_wide(m.encoding) == wide]
    if not matches:
        return None
    best = matches[0]
    if wide:
        return str(best.encoding)
    # Short texts read almost equally well in several codecs; among the plausible ones take
    # the most coherent language, and Windows-1252 when it is as coherent as any.
    plausible = [m for m in matches if m.chaos <= best.chaos + _CHAOS_MARGIN]
    common = [m for m in plausible if _normal(m.encoding) in _COMMON]
    plausible = common or plausible  # an old DOS or Mac code page only when nothing common fits
    top = max(m.coherence for m in plausible)
    if any(_WESTERN in m.could_be_from_charset and m.coherence >= top - _COHERENCE_TIE for m in plausible):
        return _WESTERN
    if top > 0:  # charset-normalizer recognised a language in the decoded text
        return str(next(m.encoding for m in plausible if m.coherence == top))
    return None


def _bom(data: bytes) -> tuple[bytes, str, str] | None:
    for mark, codec, label in _BOMS:
        if data.startswith(mark):
            return mark, codec, label
    return None


def _normal(name: str) -> str:
    return codecs.lookup(name).name.replace("-", "_")


def _is_utf8(name: str) -> bool:
    return codecs.lookup(name).name == "utf-8"


def _is_wide(name: str) -> bool:
    return codecs.lookup(name).name.replace("-", "_").startswith(_WIDE)
