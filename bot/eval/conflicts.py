"""``factdesk eval conflicts``: does an answer say "Sources disagree" when its sources do?

Reads conflicts-format JSONL (one record a line)::

    {"id", "question", "answers": [str], "altered_answers": [str],
     "documents": [{"text", "kind": "true" | "altered" | "noise"}]}

(``python -m benchmarks.conflicts_data`` builds such files from MultiHop-RAG.) For each
record, three settings, each in a fresh temporary index (its own data folder, deleted
afterwards):

- ``true_only``: the true and the noise documents;
- ``altered_only``: the altered and the noise documents;
- ``mixed``: all of them.

Each document is ingested as its own article: a fictional outlet of its own (a fixed list
of names, dealt to the record's documents in an order seeded by the record id, so one
document keeps its outlet across the three settings and the kinds are not in list order),
a neutral title ("<outlet> report") and the same publication date for every document
(2024-01-15 12:00 UTC, so recency favours no version). Then the question goes through
the real answering path, ``Factdesk.ask``.

An answer *contains* an answer string when the string occurs in the answer text (not its
sources list) case-insensitively, as a whole word ("Meta" is not in "metadata"). It is
*flagged* when ``Answer.disagreements`` (the structured field behind the "Sources
disagree" lines) is not empty; a flag *names both versions* when one of its lines cites
([n]) a true and an altered document.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from bot.answer.models import Answer
from bot.core.errors import InvalidInputError
from bot.core.text.markers import cited_numbers
from index.models import RawArticle
from index.pipeline import IngestReport

log = logging.getLogger(__name__)

KINDS = ("true", "altered", "noise")
SETTINGS: dict[str, tuple[str, ...]] = {
    "true_only": ("true", "noise"),
    "altered_only": ("altered", "noise"),
    "mixed": ("true", "altered", "noise"),
}
PUBLISHED = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)
# Fictional outlets: no real name a text could mention, none a prefix of another.
OUTLETS = (
    "Aldergrove Courier",
    "Brackenfield Gazette",
    "Cobalt Bay Herald",
    "Dunmore Ledger",
    "Elmstead Chronicle",
    "Farrowdale Post",
    "Glenhaven Tribune",
    "Harrowgate Observer",
    "Ivybridge Sentinel",
    "Juniper Falls Journal",
    "Kestrel Point Times",
    "Larkspur Dispatch",
    "Millbrook Examiner",
    "Northcote Register",
    "Oakhurst Bulletin",
    "Pinecrest Mercury",
)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Document:
    text: str
    kind: str


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    question: str
    answers: tuple[str, ...]
    altered_answers: tuple[str, ...]
    documents: tuple[Document, ...]
    label: str = ""  # the answer's entity type, when the file says (meta.answer_label)
    question_outlets: tuple[str, ...] = ()  # real outlets the question names (meta.question_outlets)

    @property
    def asked(self) -> str:
        """The question as asked here: every document has a fictional outlet, so real ones named
        in the question ("according to TechCrunch") become "one outlet" (an outlet no indexed
        article is from is refused by design: "no passage mentions TechCrunch")."""
        text = self.question
        for name in sorted(self.question_outlets, key=len, reverse=True):
            text = text.replace(name, "one outlet")
        return text


def load_records(path: Path) -> list[Record]:
    """Records from a conflicts-format JSONL file; a one-line error naming the first bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: not a readable text file ({exc})") from None
    records: list[Record] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(_record(json.loads(line)))
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidInputError(f"{path}:{number}: not a conflicts record ({exc})") from None
    ids = Counter(r.id for r in records)
    if dup := [i for i, n in ids.items() if n > 1]:
        raise InvalidInputError(f"{path}: record id {dup[0]!r} appears {ids[dup[0]]} times")
    return records


def _record(raw: Any) -> Record:
    if not isinstance(raw, dict):
        raise TypeError("expected a JSON object")
    documents = tuple(Document(str(d["text"]), str(d["kind"])) for d in raw["documents"])
    bad = [d.kind for d in documents if d.kind not in KINDS]
    if bad:
        raise ValueError(f"document kind {bad[0]!r} is not one of {', '.join(KINDS)}")
    answers = tuple(str(a) for a in raw["answers"] if str(a).strip())
    altered = tuple(str(a) for a in raw["altered_answers"] if str(a).strip())
    if not answers or not altered:
        raise ValueError("answers and altered_answers must not be empty")
    if not any(d.kind == "true" for d in documents) or not any(d.kind == "altered" for d in documents):
        raise ValueError("a record needs at least one true and one altered document")
    meta = raw.get("meta")
    label = str(meta.get("answer_label", "")) if isinstance(meta, dict) else ""
    named = meta.get("question_outlets", []) if isinstance(meta, dict) else []
    outlets = tuple(str(n) for n in named if str(n).strip()) if isinstance(named, list) else ()
    return Record(
        id=str(raw["id"]),
        question=str(raw["question"]),
        answers=answers,
        altered_answers=altered,
        documents=documents,
        label=label,
        question_outlets=outlets,
    )


def contains(text: str, candidates: Sequence[str]) -> bool:
    """Whether ``text`` contains any candidate, case-insensitively and as a whole word."""
    return any(re.search(rf"(?<!\w){re.escape(c.strip())}(?!\w)", text, re.IGNORECASE) for c in candidates if c.strip())


def outlets_for(record: Record) -> list[str]:
    """One outlet per document, dealt in an order seeded by the record id (same in every setting)."""
    names = list(OUTLETS)
    while len(names) < len(record.documents):
        names.append(f"{OUTLETS[len(names) % len(OUTLETS)]} {len(names) // len(OUTLETS) + 1}")
    seed = int(hashlib.sha256(record.id.encode("utf-8")).hexdigest(), 16)
    random.Random(seed).shuffle(names)
    return names[: len(record.documents)]


def articles_for(record: Record, setting: str) -> list[tuple[RawArticle, Document]]:
    """The documents of ``setting`` as articles: own outlet, neutral title, one date, a stable identity."""
    kinds = SETTINGS[setting]
    outlets = outlets_for(record)
    out = []
    for i, (document, outlet) in enumerate(zip(record.documents, outlets, strict=True)):
        if document.kind not in kinds:
            continue
        raw = RawArticle(
            body=document.text,
            source=f"eval-conflicts:{record.id}:{i}",
            title=f"{outlet} report",
            outlet=outlet,
            published_at=PUBLISHED,
            identity=f"eval-conflicts:{record.id}:{i}",
        )
        out.append((raw, document))
    return out


# --------------------------------------------------------------------------- the answering path


class Session(Protocol):
    """One temporary index: ingest its articles, then ask."""

    def ingest(self, articles: Sequence[RawArticle]) -> IngestReport: ...

    def ask(self, question: str) -> Answer: ...


# A fresh, empty index in ``folder`` for the length of the ``with`` block.
SessionFactory = Callable[[Path], AbstractContextManager[Session]]


@dataclass(slots=True)
class _FactdeskSession:
    app: Any  # bot.app.Factdesk (typed loosely so tests can pass their own session)

    def ingest(self, articles: Sequence[RawArticle]) -> IngestReport:
        report: IngestReport = self.app.indexer.ingest_raw(articles)
        return report

    def ask(self, question: str) -> Answer:
        answer: Answer = self.app.ask(question)
        return answer


def factdesk_sessions(settings: Any, embeddings: Any = None) -> SessionFactory:
    """Sessions on the real application: ``Factdesk.from_settings`` on a fresh data folder.

    ``settings`` is the configured :class:`bot.core.settings.Settings` (LLM, chunking, …);
    only its data folder is replaced, and the Chroma store is always the embedded one.
    ``embeddings`` (loaded once by the caller) is shared by every session.
    """
    from bot.app import Factdesk
    from bot.core.settings import Settings

    base = settings.model_dump()

    @contextmanager
    def open_session(folder: Path) -> Iterator[Session]:
        local = Settings(**{**base, "data_dir": folder, "chroma_host": None})
        with Factdesk.from_settings(local, embeddings=embeddings) as app:
            yield _FactdeskSession(app)

    return open_session


# --------------------------------------------------------------------------- one record


@dataclass(slots=True)
class Outcome:
    """What one setting of one record produced."""

    setting: str
    refused: bool
    flagged: bool
    names_both: bool  # a disagreement line cites a true and an altered document
    contains_true: bool
    contains_altered: bool
    engine: str
    seconds: float  # answering only (not ingest)
    ingest_seconds: float
    merged: dict[str, int]  # documents folded into another at ingest (near-duplicates), by kind
    answer: str
    disagreements: list[str]
    notes: list[str] = field(default_factory=list)  # the answer's notes: why a refusal refused

    def to_dict(self) -> dict[str, Any]:
        return {
            "setting": self.setting,
            "refused": self.refused,
            "flagged": self.flagged,
            "names_both": self.names_both,
            "contains_true": self.contains_true,
            "contains_altered": self.contains_altered,
            "engine": self.engine,
            "seconds": round(self.seconds, 4),
            "ingest_seconds": round(self.ingest_seconds, 4),
            "merged": self.merged,
            "answer": self.answer,
            "disagreements": self.disagreements,
            "notes": self.notes,
        }


def run_setting(record: Record, setting: str, session: Session) -> Outcome:
    """Ingest the setting's documents into ``session`` (an empty index) and ask the question."""
    articles = articles_for(record, setting)
    started = time.perf_counter()
    report = session.ingest([raw for raw, _ in articles])
    ingest_seconds = time.perf_counter() - started
    by_source = {raw.source: doc for raw, doc in articles}
    errors = [item for item in report.items if item.status == "error"]
    if errors:
        raise InvalidInputError(f"record {record.id}: a document could not be ingested ({errors[0].detail})")
    merged = Counter(
        by_source[i.source].kind for i in report.items if i.status == "duplicate" and i.source in by_source
    )
    started = time.perf_counter()
    answer = session.ask(record.asked)
    seconds = time.perf_counter() - started
    kinds_by_outlet = {str(raw.outlet): doc.kind for raw, doc in articles}
    return Outcome(
        setting=setting,
        refused=answer.refused,
        flagged=bool(answer.disagreements),
        names_both=_names_both(answer, kinds_by_outlet),
        contains_true=contains(answer.text, record.answers),
        contains_altered=contains(answer.text, record.altered_answers),
        engine=answer.engine,
        seconds=seconds,
        ingest_seconds=ingest_seconds,
        merged=dict(sorted(merged.items())),
        answer=answer.text,
        disagreements=list(answer.disagreements),
        notes=list(answer.notes),
    )


def _names_both(answer: Answer, kinds_by_outlet: dict[str, str]) -> bool:
    """Whether one disagreement line cites ([n]) a true and an altered document."""
    kind_of_number = {s.number: kinds_by_outlet.get(s.outlet, "") for s in answer.sources}
    for line in answer.disagreements:
        kinds = {kind_of_number.get(n, "") for n in cited_numbers(line)}
        if {"true", "altered"} <= kinds:
            return True
    return False


def parse_settings(text: str) -> tuple[str, ...]:
    """Comma-separated setting names ("true_only,mixed"), in the benchmark's order; a clear error otherwise."""
    names = {n.strip() for n in text.split(",") if n.strip()}
    unknown = sorted(names - set(SETTINGS))
    if unknown or not names:
        raise InvalidInputError(f"unknown setting {', '.join(unknown) or '(none)'}: choose from {', '.join(SETTINGS)}")
    return tuple(n for n in SETTINGS if n in names)


def evaluate_record(
    record: Record, sessions: SessionFactory, workdir: Path, settings: Sequence[str] = tuple(SETTINGS)
) -> dict[str, Outcome]:
    """The settings of ``record`` (all three by default), each in a fresh folder under ``workdir``
    (removed afterwards)."""
    out: dict[str, Outcome] = {}
    for setting in settings:
        folder = Path(tempfile.mkdtemp(prefix=f"{setting}-", dir=workdir))
        try:
            with sessions(folder) as session:
                out[setting] = run_setting(record, setting, session)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return out


# --------------------------------------------------------------------------- figures


@dataclass(slots=True)
class ConflictScores:
    """Outcomes accumulated into the benchmark's figures."""

    outcomes: list[dict[str, Outcome]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    def add(self, record: Record, outcomes: dict[str, Outcome]) -> None:
        self.outcomes.append(outcomes)
        self.labels.append(record.label or "unknown")

    def _share(self, setting: str, test: Callable[[Outcome], bool], rows: Sequence[int] | None = None) -> float:
        picked = [self.outcomes[i] for i in rows] if rows is not None else self.outcomes
        values = [test(o[setting]) for o in picked if setting in o]
        return sum(values) / len(values) if values else 0.0

    def figures(self, rows: Sequence[int] | None = None) -> dict[str, float]:
        """Each figure of the settings that were run (a figure of a setting not run is left out, not 0)."""
        ran = self.settings_run()
        return {name: self._share(setting, test, rows) for name, (setting, test) in _FIGURES.items() if setting in ran}

    def settings_run(self) -> list[str]:
        """The settings some record ran, in the benchmark's order."""
        return [k for k in SETTINGS if any(k in o for o in self.outcomes)]

    def summary(self) -> dict[str, Any]:
        seconds = {k: sorted(o[k].seconds for o in self.outcomes if k in o) for k in self.settings_run()}
        every = sorted(x for values in seconds.values() for x in values)
        ingest = sorted(o[k].ingest_seconds for o in self.outcomes for k in o)
        engines = Counter(o[k].engine for o in self.outcomes for k in o)
        by_label: dict[str, dict[str, Any]] = {}
        for label in sorted(set(self.labels)):
            rows = [i for i, lab in enumerate(self.labels) if lab == label]
            picked = self.figures(rows)
            by_label[label] = {"records": len(rows), **{k: picked[k] for k in _LABEL_FIGURES if k in picked}}
        return {
            "records": len(self.outcomes),
            **self.figures(),
            "p50_seconds_per_question": _pct(every, 50),
            "p95_seconds_per_question": _pct(every, 95),
            "p50_seconds_per_question_by_setting": {k: _pct(v, 50) for k, v in seconds.items()},
            "p50_ingest_seconds_per_setting": _pct(ingest, 50),
            "documents_merged_by_kind": dict(
                sorted(Counter(kind for o in self.outcomes for x in o.values() for kind in _expand(x.merged)).items())
            ),
            "answers_by_engine": dict(sorted(engines.items())),
            "by_answer_label": by_label,
        }


_FIGURES: dict[str, tuple[str, Callable[[Outcome], bool]]] = {
    "true_only_accuracy": ("true_only", lambda o: o.contains_true),
    "true_only_flagged": ("true_only", lambda o: o.flagged),
    "true_only_refused": ("true_only", lambda o: o.refused),
    "altered_only_accuracy": ("altered_only", lambda o: o.contains_altered),
    "altered_only_flagged": ("altered_only", lambda o: o.flagged),
    "altered_only_refused": ("altered_only", lambda o: o.refused),
    "mixed_flagged": ("mixed", lambda o: o.flagged),
    "mixed_flagged_naming_both": ("mixed", lambda o: o.names_both),
    "mixed_accuracy": ("mixed", lambda o: o.contains_true),
    "mixed_altered_stated": ("mixed", lambda o: o.contains_altered),
    "mixed_altered_unflagged": ("mixed", lambda o: o.contains_altered and not o.flagged),
    "mixed_refused": ("mixed", lambda o: o.refused),
    "mixed_altered_merged": ("mixed", lambda o: o.merged.get("altered", 0) > 0),
}
_LABEL_FIGURES = ("true_only_accuracy", "mixed_flagged", "mixed_altered_unflagged", "altered_only_accuracy")


def _expand(counts: dict[str, int]) -> Iterator[str]:
    for kind, n in counts.items():
        yield from [kind] * n


def _pct(sorted_values: Sequence[float], pct: int) -> float:
    if not sorted_values:
        return 0.0
    if pct == 50:
        return float(statistics.median(sorted_values))
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return float(sorted_values[index])


def evaluate(
    records: Sequence[Record],
    sessions: SessionFactory,
    workdir: Path | None = None,
    progress: Callable[[int], None] | None = None,
    details: Callable[[Record, dict[str, Outcome]], None] | None = None,
    settings: Sequence[str] = tuple(SETTINGS),
) -> ConflictScores:
    """Run every record's ``settings`` (all three by default); ``details`` sees each record's outcomes as they come."""
    scores = ConflictScores()
    with tempfile.TemporaryDirectory(prefix="factdesk-conflicts-", dir=workdir) as tmp:
        for i, record in enumerate(records):
            outcomes = evaluate_record(record, sessions, Path(tmp), settings)
            scores.add(record, outcomes)
            if details is not None:
                details(record, outcomes)
            if progress is not None:
                progress(i + 1)
    return scores
