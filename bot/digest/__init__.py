"""Daily digests and story timelines: a window's articles clustered into stories, each with a
cited 2–4 sentence summary, tracked across days in a small database. No Discord, no CLI here.

Import from the submodules (this package imports nothing itself):

* built by the application layer (:mod:`bot.app`), which injects the extractive engine and verifier
* :mod:`bot.digest.service` — ``DigestService``: ``get_or_create``, ``latest``, ``story_timeline``,
  ``find_stories``, ``was_posted`` / ``mark_posted``
* :mod:`bot.digest.window` — ``Window``, ``day_window``, ``since_window``, ``resolve_window``
* :mod:`bot.digest.models` — ``Digest`` (``to_markdown``, ``to_dict``), ``Story``, ``StoryTimeline``

Pipeline: :mod:`content` (window's articles and first chunks, vectors from the store) →
:mod:`clustering` (chunk units, average linkage on cosine + names, paragraph joins) →
:mod:`continuity` (match to stories seen in the last 7 days) → :mod:`topic` (``--topic``) →
:mod:`summary` (extractive engine or LLM, both through the citation verifier) →
:mod:`novelty` ("Since last digest") → :mod:`sources` (digest-wide numbering) →
:mod:`history` / :mod:`db` (SQLAlchemy tables ``digest_*``).
"""
