"""``factdesk eval multihop``: retrieval and answer figures on MultiHop-RAG-format data."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.app import Factdesk
from bot.cli.app import State, app, state, user_errors
from bot.core.errors import InvalidInputError
from bot.core.settings import Settings
from bot.eval.multihop import AnswerScores, evaluate_retrieval, load_queries

# Where the benchmark data comes from (it is not shipped: the article bodies are their publishers' text).
MULTIHOP_SOURCE = (
    "The data is the MultiHop-RAG benchmark (Tang & Yang, COLM 2024; GitHub yixuantt/MultiHop-RAG: "
    "corpus.json, and MultiHopRAG.json as the queries file)."
)

eval_app = typer.Typer(
    help="Benchmarks that print figures (never timed tests).", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(eval_app, name="eval")


@eval_app.command("multihop")
@user_errors
def multihop(
    ctx: typer.Context,
    corpus: Path = typer.Option(Path("../shared/data/multihop-rag/corpus.json"), help="corpus.json"),
    queries: Path = typer.Option(Path("../shared/data/multihop-rag/queries-dev.json"), help="queries file"),
    k: int = typer.Option(10, help="passages retrieved per query"),
    limit: int = typer.Option(0, help="only the first N queries (0 = all)"),
    answers: bool = typer.Option(True, "--answers/--no-answers", help="also run the answer engine"),
    index_dir: Path | None = typer.Option(None, help="index folder (default: <data dir>/eval-multihop)"),
    json_out: Path | None = typer.Option(None, "--json", help="also write the figures as JSON here"),
) -> None:
    """Index the corpus (reused when unchanged), then print Hits@4/10, MRR@10, evidence recall and more.

    The data is the MultiHop-RAG benchmark (GitHub yixuantt/MultiHop-RAG), not shipped with factdesk;
    by default it is read from ../shared/data/multihop-rag, or give --corpus and --queries.
    """
    st = state(ctx)
    for path, option in ((corpus, "--corpus"), (queries, "--queries")):
        if not path.is_file():
            raise InvalidInputError(f"{path}: file not found. {MULTIHOP_SOURCE} Point {option} at your copy.")
    settings = Settings(**{**st.settings.model_dump(), "data_dir": index_dir or st.settings.data_dir / "eval-multihop"})
    with Factdesk.from_settings(settings) as eval_app:
        _run(st, eval_app, corpus, queries, k, limit, answers, json_out)


def _run(
    st: State,
    app: Factdesk,
    corpus: Path,
    queries: Path,
    k: int,
    limit: int,
    answers: bool,
    json_out: Path | None,
) -> None:
    settings = app.settings
    started = time.perf_counter()
    report = app.indexer.ingest([str(corpus)], None, settings.max_source_bytes)
    st.err.print(
        f"index: {report.count('added')} added, {report.count('unchanged')} unchanged, "
        f"{report.count('duplicate')} near-duplicates, {len(report.errors)} errors "
        f"in {time.perf_counter() - started:.1f}s",
        highlight=False,
    )
    items = load_queries(queries)
    if limit:
        items = items[:limit]
    answerer = app.answerer
    retriever = answerer.retriever
    retriever.refresh()
    answerable = [q for q in items if q.question_type != "null_query"]
    with _progress(st) as progress:
        task = progress.add_task("retrieval", total=len(answerable))
        scores = evaluate_retrieval(
            items,
            lambda q, n: [p.text for p in retriever.retrieve(q, n).passages],
            k,
            lambda done: progress.update(task, completed=done),
        )
        answer_scores = AnswerScores()
        if answers:
            task2 = progress.add_task("answers", total=len(items))
            for query in items:
                t0 = time.perf_counter()
                answer = answerer.ask(query.query)
                answer_scores.add(
                    query,
                    answer.refused,
                    answer.text,
                    answer.tokens.get("context", 0),
                    (time.perf_counter() - t0) * 1000,
                    engine=answer.engine,
                )
                progress.advance(task2)
    figures = {
        "retrieval": scores.summary(),
        "answers": answer_scores.summary() if answers else None,
        "config": {
            "k": k,
            "chunk_tokens": settings.chunk_tokens,
            "embedding": app.embeddings.model_name,
            "engine": "llm" if answerer.llm is not None else "extractive",
            "queries": len(items),
        },
    }
    _print(st, figures)
    if json_out:
        json_out.write_text(json.dumps(figures, indent=2))
    typer.echo(json.dumps(figures, indent=2))


def _progress(st: State) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=st.err,
        transient=True,
    )


def _print(st: State, figures: Mapping[str, object]) -> None:
    table = Table(title="MultiHop-RAG")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for section in ("retrieval", "answers"):
        values = figures.get(section)
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in value.items())
            elif isinstance(value, float):
                value = f"{value:.3f}" if "ms" not in name and "tokens" not in name else f"{value:.1f}"
            table.add_row(name, str(value))
    st.err.print(table)


@eval_app.command("summedits")
@user_errors
def summedits(
    ctx: typer.Context,
    data: Path = typer.Option(..., "--data", help="one SummEdits-format JSON file (see README, Benchmarks)"),
    model: Path | None = typer.Option(None, "--model", help="a support model JSON (default: the shipped one)"),
    json_out: Path | None = typer.Option(None, "--json", help="also write the figures as JSON here"),
) -> None:
    """Score each summary against its document with the shipped support check; balanced accuracy on test."""
    from bot.eval.summedits import evaluate, load_records
    from bot.verify.facts import FactSupport, SupportModel

    st = state(ctx)
    if not data.is_file():
        raise InvalidInputError(f"{data}: file not found")
    support = FactSupport(model=SupportModel.load(model) if model else None)
    figures = evaluate(load_records(data), support)
    table = Table(title=f"SummEdits: {data.name}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in figures.items():
        shown = ", ".join(f"{k}={v:.3f}" for k, v in value.items()) if isinstance(value, dict) else str(value)
        table.add_row(name, shown)
    st.err.print(table)
    if json_out:
        json_out.write_text(json.dumps(figures, indent=2) + "\n")
    typer.echo(json.dumps(figures, indent=2))


@eval_app.command("conflicts")
@user_errors
def conflicts(
    ctx: typer.Context,
    data: Path = typer.Option(..., "--data", help="conflicts-format JSONL (python -m benchmarks.conflicts_data)"),
    json_out: Path | None = typer.Option(None, "--json", help="also write the figures as JSON here"),
    limit: int = typer.Option(0, help="only the first N records (0 = all)"),
    details: Path | None = typer.Option(None, help="write each record's answers and flags here (JSONL)"),
    settings: str = typer.Option(
        "true_only,altered_only,mixed", "--settings", help="which settings to run, comma-separated"
    ),
) -> None:
    """Per record: true, altered and mixed sources, each in a fresh index; is the disagreement shown?"""
    from bot.app.factdesk import build_embeddings
    from bot.eval.conflicts import Outcome, Record, evaluate, factdesk_sessions, load_records, parse_settings

    st = state(ctx)
    chosen = parse_settings(settings)
    if not data.is_file():
        raise InvalidInputError(f"{data}: file not found")
    records = load_records(data)[: limit or None]
    embeddings = build_embeddings(st.settings)  # loaded once, shared by every temporary index
    out = details.open("w", encoding="utf-8") if details else None

    def write_details(record: Record, outcomes: dict[str, Outcome]) -> None:
        if out is not None:
            out.write(json.dumps({"id": record.id, **{k: v.to_dict() for k, v in outcomes.items()}}) + "\n")

    try:
        with _progress(st) as progress:
            task = progress.add_task("records", total=len(records))
            scores = evaluate(
                records,
                factdesk_sessions(st.settings, embeddings),
                progress=lambda done: progress.update(task, completed=done),
                details=write_details,
                settings=chosen,
            )
    finally:
        if out is not None:
            out.close()
    figures = {
        **scores.summary(),
        "config": {
            "data": str(data),
            "engine": "llm" if st.settings.llm_enabled else "extractive",
            "embedding": embeddings.model_name,
            "index": "a fresh data folder per record and setting",
            "settings": list(chosen),
        },
    }
    table = Table(title=f"Conflicts: {data.name}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in figures.items():
        rows = value.items() if isinstance(value, dict) and name == "by_answer_label" else [("", value)]
        for sub, shown in rows:
            if isinstance(shown, dict):
                shown = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items())
            elif isinstance(shown, float):
                shown = f"{shown:.3f}"
            table.add_row(f"{name}.{sub}" if sub else name, str(shown))
    st.err.print(table)
    if json_out:
        json_out.write_text(json.dumps(figures, indent=2) + "\n")
    typer.echo(json.dumps(figures, indent=2))
