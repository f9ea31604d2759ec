"""The counterfactual generator's text rules (benchmarks.conflicts_data), without spaCy."""

from __future__ import annotations

import pytest

from benchmarks.conflicts_data import (
    Query,
    bare,
    canonical_answer,
    forms_of,
    initials,
    mentions_any,
    outlets_in,
    prose,
    record_id,
    select,
    split_of,
    split_sentences,
    swap,
)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Daniel Okafor", "Daniel Okafor"),
        ("Daniel Okafor.", "Daniel Okafor"),  # the benchmark's trailing full stop
        ("The Harbor Authority (the port's operator)", "The Harbor Authority"),
        ("$4.2 million", "$4.2 million"),
        ("Yes", None),
        ("no", None),
        ("Insufficient information.", None),
        ("Consistent", None),  # a verdict, not a fact a source states
        ("Different aspects", None),
        ("Daniel Okafor and Samuel Reyes", None),  # two answers
        ("bettors", None),  # a common noun
    ],
)
def test_only_short_entity_or_value_answers_are_kept(answer: str, expected: str | None) -> None:
    assert canonical_answer(answer) == expected


def test_forms_are_the_bare_name_and_a_persons_surname() -> None:
    assert forms_of("Daniel Okafor", "PERSON") == ["Daniel Okafor", "Okafor"]
    assert forms_of("Martin Luther King Jr.", "PERSON") == ["Martin Luther King Jr.", "King"]
    assert forms_of("The Harbor Authority", "ORG") == ["Harbor Authority"]
    assert forms_of("$4.2 million", "MONEY") == ["$4.2 million"]
    assert bare("the Harbor Authority's") == "Harbor Authority"
    assert initials("Sam Bankman-Fried") == "SBF"
    assert initials("Daniel Okafor") is None  # two letters are too common to mean the person


def test_swap_replaces_every_form_keeping_case_possessives_and_articles() -> None:
    mapping = {"Daniel Okafor": "Samuel Reyes", "Okafor": "Reyes"}
    text = "Daniel Okafor spoke first. Okafor's plan won. OKAFOR WINS, the banner said."
    assert swap(text, mapping) == "Samuel Reyes spoke first. Reyes's plan won. REYES WINS, the banner said."
    # "a"/"an" in front of the swapped name follows the new name's sound.
    assert swap("It was an Orbital move and a Orbital-led deal.", {"Orbital": "Nimbus"}) == (
        "It was a Nimbus move and a Nimbus-led deal."
    )
    assert swap("He joined a Nimbus team.", {"Nimbus": "Orbital"}) == "He joined an Orbital team."
    assert swap("A Nimbus spokesperson declined.", {"Nimbus": "FTX"}) == "An FTX spokesperson declined."
    # Only whole words, and not another casing of the word ("okafor" in a handle stays).
    assert swap("Okaforville and @okafor are not him.", {"Okafor": "Reyes"}) == "Okaforville and @okafor are not him."
    assert swap("The refit costs $4.2 million.", {"$4.2 million": "$3.5 million"}) == "The refit costs $3.5 million."


def test_mentions_are_whole_words_and_case_insensitive() -> None:
    assert mentions_any("meta's new glasses", ["Meta"])
    assert not mentions_any("the metadata was lost", ["Meta"])
    assert not mentions_any("nothing here", [])


def test_prose_rejects_headings_links_and_furniture() -> None:
    assert prose("The council approved the budget on Tuesday after a long debate.")
    assert not prose("Live odds for the final")  # a heading: no full stop
    assert not prose("Read more at https://example.test/story.")
    assert not prose("Sign up for our newsletter to get the latest news.")
    assert not prose("Short one.")


def test_sentences_keep_their_places_in_the_body() -> None:
    body = "Mr. Okafor spoke on Oct. 7. He left.\n\nThe board   met again."
    sentences, spans = split_sentences(body)
    assert sentences == ["Mr. Okafor spoke on Oct. 7.", "He left.", "The board met again."]
    assert [body[a:b].strip() for a, b in spans[:2]] == sentences[:2]
    assert body[spans[2][0] : spans[2][1]].startswith("The board")


def test_ids_and_splits_are_stable_and_roughly_half_and_half() -> None:
    assert record_id("Who runs Brightwater?") == record_id("Who runs Brightwater?")
    assert record_id("Who runs Brightwater?") != record_id("Who runs Northwind?")
    splits = [split_of(record_id(f"question {i}")) for i in range(400)]
    assert set(splits) == {"dev", "test"}
    assert 160 <= splits.count("dev") <= 240


def test_select_caps_questions_per_answer_deterministically() -> None:
    queries = [Query(f"Who leads team {i}?", "Daniel Okafor.", "inference_query", []) for i in range(5)]
    queries += [Query("Who leads the port?", "Samuel Reyes", "inference_query", [])]
    chosen = select(queries, 2)
    assert sum(q.answer.startswith("Daniel") for q in chosen) == 2  # "Daniel Okafor." and "Daniel Okafor" are one
    assert [q.question for q in chosen] == [q.question for q in select(list(reversed(queries)), 2)]


def test_outlets_named_in_a_question_are_found_as_written() -> None:
    names = {"the verge", "verge", "techcrunch", "fortune"}
    question = "Did The Verge and TechCrunch agree, and what did fortune tellers say?"
    assert outlets_in(question, names) == ["TechCrunch", "The Verge"]  # longest name first


def test_quoted_outlet_names_are_found_whole() -> None:
    names = {"the age", "age", "fortune", "business today", "techcrunch"}
    question = "Which firm, says 'The Age', 'Fortune' and 'Business Today', is O'Fortune's rival per TechCrunch's?"
    assert outlets_in(question, names) == ["Business Today", "TechCrunch", "Fortune", "The Age"]
