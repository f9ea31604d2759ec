"""``--topic``: keep the stories a topic is about, by meaning or by name.

A story is relevant when the topic's words all appear in one of its headlines,
or its embedding is close to one of the story's passages (``threshold``), or
the words appear in a passage that is at least loosely close (``loose``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import numpy as np

from bot.digest.clustering import StoryCluster
from bot.digest.content import WindowContent
from index.embeddings import NamedEmbeddings, embed_array

log = logging.getLogger(__name__)

# Topic vs. chunk cosine (all-MiniLM-L6-v2) on MultiHop-RAG 2023-11-27: the stories a topic is
# about score 0.40-0.56 ("Cyber Monday", "Manchester United", "Amazon"), the rest <= 0.26;
# short generic topics ("football" 0.31-0.37, "artificial intelligence" 0.38) need their words
# in a passage, hence the loose bar with the keyword check.
TOPIC_THRESHOLD = 0.45
TOPIC_LOOSE = 0.25
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOP = frozenset("a an and the of in on at for to with about from by news latest story stories what".split())  # noqa: SIM905


def topic_words(topic: str) -> list[str]:
    return [w for w in _WORD.findall(topic.lower()) if w not in _STOP and len(w) > 1]


def _has_all(words: Sequence[str], text: str) -> bool:
    found = set(_WORD.findall(text.lower()))
    return all(w in found for w in words)


class TopicFilter:
    def __init__(
        self, embeddings: NamedEmbeddings, threshold: float = TOPIC_THRESHOLD, loose: float = TOPIC_LOOSE
    ) -> None:
        self.embeddings = embeddings
        self.threshold = threshold
        self.loose = loose

    def scores(self, topic: str, clusters: Sequence[StoryCluster], content: WindowContent) -> list[float]:
        """Best cosine between the topic and each story's passages."""
        if not clusters:
            return []
        query = embed_array(self.embeddings, [topic])[0]
        row_of = {c.id: i for i, c in enumerate(content.chunks)}
        similarity = content.vectors @ query if len(content.vectors) else np.zeros(0)
        out: list[float] = []
        for cluster in clusters:
            rows = [row_of[s.chunk_id] for spans in cluster.spans.values() for s in spans if s.chunk_id in row_of]
            out.append(float(similarity[rows].max()) if rows else 0.0)
        return out

    def relevant(self, topic: str, clusters: Sequence[StoryCluster], content: WindowContent) -> list[StoryCluster]:
        words = topic_words(topic)
        keep: list[StoryCluster] = []
        for cluster, score in zip(clusters, self.scores(topic, clusters, content), strict=True):
            in_title = bool(words) and any(
                _has_all(words, a.title) for a in cluster.articles if a.id not in cluster.secondary
            )
            in_text = bool(words) and any(_has_all(words, s.text) for spans in cluster.spans.values() for s in spans)
            if in_title or score >= self.threshold or (in_text and score >= self.loose):
                keep.append(cluster)
            log.debug(
                "topic %r vs %r: %.2f title=%s text=%s",
                topic,
                cluster.headline[:60],
                score,
                in_title,
                in_text,
            )
        return keep
