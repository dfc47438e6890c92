"""The graded relevance set of issue 17: a regional catalogue (:mod:`.catalogue`), resident
queries with hand-written judgment rules (``queries.yaml``, read by :mod:`.judgments`) and
the ranking metrics (:mod:`.metrics`). ``bench/relevance.py`` runs it on the backends."""
