"""Recognising what the user wants from what they typed: commands, precise patterns, then phrasings like the examples."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from rapidfuzz import fuzz, process

from dialogs.feature import Intent
from dialogs.phrasings import NOTHING

_FUZZY_CUTOFF = 85
SURE = 0.3  # similarity to the nearest example needed to start a flow without asking...
MARGIN = 0.08  # ...and its lead over the next flow
FLOOR = 0.15  # below this nothing is close: the help card, not a question
NEAREST = 0.7  # weight of the nearest example against the whole flow's vocabulary
_POLITE = re.compile(r"^(please|pls|can you( please)?|could you( please)?)\s+|[\s,]+(please|pls)$")
# Words that say how, not what: a flow is only started on a word beyond these.
_FUNCTION = frozenset("what how many much who which when where why whats are there any anything is am was were have has had "
                      "do does did can could would will i me my you your we us they he she her his him about on in at for "
                      "with by from up off out not no yes all some".split())
_WORD = re.compile(r"[a-z0-9]+")
_SUFFIXES = (("ings", ""), ("ing", ""), ("ies", "y"), ("ied", "y"), ("es", ""), ("ed", ""), ("s", ""))
_STOP = frozenset({"a", "an", "the", "and", "of", "to", "is", "it", "be", "please", "s", "d", "just", "our", "this"})
# Words that mean the same thing here, as (canonical word, its synonyms).
_SYNONYMS = (
    ("photo", "photos pic pics picture pictures image images photograph photographs video videos film footage"),
    ("social", "facebook fb twitter tweet instagram insta tiktok youtube socials"),
    ("press", "paper newspaper newspapers reporter journalist bbc tv"),
    ("website", "site web webpage"),
    ("parent", "parents mum mums dad dads mother father grandma grandad guardian carer"),
    ("pupil", "pupils child children childs kid kids student students"),
    ("lost", "lose losing stolen stole nicked missing gone dropped taken"),
    ("training", "course courses session sessions workshop webinar"),
    ("email", "emails emailed sent send cc bcc forwarded forward"),
    ("withdraw", "withdrawn withdrew remove removed"),
    ("grant", "granted given agreed"),
    ("mistake", "accidentally accident mistakenly"),
    ("bus", "buses train trains minibus coach taxi tube tram"),
    ("document", "documents doc docs paperwork form forms file files folder folders pdf spreadsheet spreadsheets sheet sheets"),
    ("hacked", "hack hacker hackers compromised breached"),
)
_SAME = {word: canonical for canonical, words in _SYNONYMS for word in words.split()}
_CANONICAL = frozenset(canonical for canonical, _ in _SYNONYMS)


def normalise(text: str) -> str:
    """Lower case, single spaces, no trailing punctuation or "please" around it."""
    said = " ".join(text.lower().split()).strip(" .!?")
    return _POLITE.sub("", said).strip(" ,.!?") or said


@dataclass(frozen=True)
class Match:
    """A recognised intent; `exact` when the user typed (nearly) the command itself."""

    intent: Intent
    exact: bool


@dataclass(frozen=True)
class Unsure:
    """Two flows the words could mean, best first: ask which."""

    options: tuple[Intent, Intent]


def recognise(text: str, intents: Sequence[Intent]) -> Match | None:
    """Best intent for `text`: a command (typos tolerated), else the first matching pattern."""
    said = normalise(text)
    return (_command(said, intents) or _pattern(said, intents)) if said else None


def _command(said: str, intents: Sequence[Intent]) -> Match | None:
    commands = {command: intent for intent in intents for command in intent.commands}
    best = process.extractOne(said, list(commands), scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
    return Match(commands[best[0]], exact=True) if best is not None else None


def _pattern(said: str, intents: Sequence[Intent]) -> Match | None:
    return next((Match(intent, exact=False) for intent in intents
                 if any(re.search(pattern, said) for pattern in intent.patterns)), None)


def _stem(word: str) -> str:
    if word in _SAME or word in _CANONICAL:
        return _SAME.get(word, word)
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)] + replacement
            return _SAME.get(stem, stem)
    return word


def features(text: str) -> list[str]:
    """Stemmed words and word pairs; every number is "0" (a reference or id matters, not its value)."""
    said = normalise(text).replace("\u2019", "'")
    words = ["0" if word.isdigit() else _stem(word) for word in _WORD.findall(said) if word not in _STOP]
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def _vector(words: Sequence[str], idf: Mapping[str, float]) -> dict[str, float]:
    counts: dict[str, float] = defaultdict(float)
    for word in words:
        counts[word] += idf.get(word, 0.0)
    norm = math.sqrt(sum(v * v for v in counts.values())) or 1.0
    return {word: value / norm for word, value in counts.items() if value}


class Recogniser:
    """Commands and patterns first; otherwise the flow whose examples are most alike (TF-IDF cosine, nearest example)."""

    def __init__(self, intents: Sequence[Intent], examples: Mapping[str, Sequence[str]],
                 last_resort: Collection[str] = ()) -> None:
        self._intents = list(intents)
        self._first = [intent for intent in intents if intent.dialog_id not in last_resort]
        self._last = [intent for intent in intents if intent.dialog_id in last_resort]
        by_id = {intent.dialog_id: intent for intent in intents}
        docs = [(label, features(text)) for label, texts in examples.items() if label in by_id or label == NOTHING
                for text in texts]
        docs += [(intent.dialog_id, features(command)) for intent in intents for command in intent.commands]
        # A word's weight: rarer across flows (not across examples) is more telling.
        flows_with: dict[str, set[str]] = defaultdict(set)
        for label, words in docs:
            for word in words:
                flows_with[word].add(label)
        flows = len({label for label, _ in docs})
        self._idf = {word: math.log((1 + flows) / (1 + len(seen))) + 1 for word, seen in flows_with.items()}
        self._labels = [label for label, _ in docs]
        self._index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for number, (label, words) in enumerate(docs):
            for word, weight in _vector(words, self._idf).items():
                self._index[word].append((number, weight))
                sums[label][word] += weight
        self._content = {label: {word for word in total if " " not in word and word not in _FUNCTION}
                         for label, total in sums.items()}
        self._centroids: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for label, total in sums.items():
            norm = math.sqrt(sum(v * v for v in total.values()))
            for word, value in total.items():
                self._centroids[word].append((label, value / norm))
        self._by_id = by_id

    def ranked(self, text: str) -> list[tuple[str, float]]:
        """Each label (dialog id, or a label of no flow) with its best example's similarity, best first."""
        sums: dict[int, float] = defaultdict(float)
        centre: dict[str, float] = defaultdict(float)
        for word, weight in _vector(features(text), self._idf).items():
            for number, other in self._index.get(word, ()):
                sums[number] += weight * other
            for label, other in self._centroids.get(word, ()):
                centre[label] += weight * other
        best: dict[str, float] = defaultdict(float)
        for number, score in sums.items():
            label = self._labels[number]
            best[label] = max(best[label], score)
        scores = {label: NEAREST * best[label] + (1 - NEAREST) * centre[label] for label in centre}
        return sorted(scores.items(), key=lambda item: -item[1])

    def decide(self, text: str) -> Match | Unsure | None:
        """What `text` asks for: a flow, two to choose between, or nothing we do. The patterns of `last_resort`
        flows (catch-alls) count only when the examples don't settle it."""
        said = normalise(text)
        if not said:
            return None
        match = _command(said, self._intents) or _pattern(said, self._first)
        if match is not None:
            return match
        decision = self._by_examples(said)
        return decision if isinstance(decision, Match) else _pattern(said, self._last) or decision

    def _by_examples(self, said: str) -> Match | Unsure | None:
        ranked = self.ranked(said)
        if not ranked or ranked[0][1] < FLOOR or ranked[0][0] not in self._by_id:
            return None
        top, score = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        telling = self._content[top] & set(features(said))  # "what about the fire drill" is like "what's due" in no way
        if score >= SURE and score - runner_up >= MARGIN and telling:
            return Match(self._by_id[top], exact=False)
        others = [label for label, _ in ranked[1:] if label in self._by_id]
        if not others:
            return Match(self._by_id[top], exact=False) if score >= SURE and telling else None
        return Unsure((self._by_id[top], self._by_id[others[0]]))
