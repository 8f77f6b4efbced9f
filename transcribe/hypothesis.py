"""LocalAgreement hypothesis buffer (after ufal/whisper_streaming): commit what two decodes agree on."""

from __future__ import annotations

import re

from transcribe.types import Word

_PUNCT = re.compile(r"[\s,.;:?!，。；：？！、\"'“”‘’()（）-]+")


def norm(text: str) -> str:
    """Word key for agreement: case, spaces and punctuation do not count."""
    return _PUNCT.sub("", text).lower()


class HypothesisBuffer:
    """Holds a decode's unconfirmed words; ``flush`` commits the longest common prefix with the next one.

    Words are absolute-time ``Word`` records; committed times never go backwards.
    """

    def __init__(self) -> None:
        self.committed_in_buffer: list[Word] = []
        self.buffer: list[Word] = []  # the hypothesis the next ``flush`` compares with, not yet committed
        self.new: list[Word] = []
        self.latest: list[Word] = []  # a newer hypothesis than ``buffer``, shown but held from agreement
        self.last_committed_time = 0.0

    def insert(self, words: tuple[Word, ...] | list[Word]) -> None:
        """Take a new hypothesis, keeping only what follows the committed text.

        The committed tail is found in the new hypothesis by its words (timestamps shift a little
        between decodes); without a match, words that start before the last commit are dropped.
        """
        words = list(words)
        after = self._after_committed(words)
        if after is None:
            after = self._after_last_commit(words)
        self.new = after

    def _after_last_commit(self, words: list[Word]) -> list[Word]:
        """The words that lie after the last commit in time (a word counts by its middle)."""
        return [w for w in words if (w.start + w.end) / 2 > self.last_committed_time]

    def _after_committed(self, words: list[Word]) -> list[Word] | None:
        committed = self.committed_in_buffer
        for k in range(min(3, len(committed)), 0, -1):
            tail = [norm(w.text) for w in committed[-k:]]
            best: int | None = None
            for i in range(len(words) - k + 1):
                last = words[i + k - 1]
                if [norm(w.text) for w in words[i : i + k]] == tail and abs(last.end - self.last_committed_time) < 1.5:
                    if best is None or abs(last.end - self.last_committed_time) < abs(
                            words[best + k - 1].end - self.last_committed_time):
                        best = i
            if best is not None:
                return words[best + k :]
        return None

    def hold(self) -> None:
        """Keep the new hypothesis to show (and for ``commit_older_than``) without comparing it yet.

        Decodes a moment apart hear almost the same audio and agree on the same mishearing (two
        decodes 0.4 s apart both heard "does never pay" where the speaker said "has never paid"):
        the next ``flush`` compares a later hypothesis with the one before this.
        """
        self.latest, self.new = self.new, []

    def flush(self) -> list[Word]:
        """Commit the common prefix of the previous and the new hypothesis; returns the committed words."""
        self.latest = []
        commit: list[Word] = []
        while self.new and self.buffer and norm(self.new[0].text) == norm(self.buffer[0].text):
            word = self.new.pop(0)
            self.buffer.pop(0)
            commit.append(self._monotonic(word))
        self.buffer, self.new = self.new, []
        self.committed_in_buffer.extend(commit)
        return commit

    def commit_older_than(self, t: float) -> list[Word]:
        """Commit the head of the current hypothesis that ends before ``t`` even without agreement.

        LocalAgreement alone can hold a word back for as long as consecutive decodes spell it
        differently (Mandarin characters flicker between homophones); a word that the latest decode
        heard with enough audio after it is committed as that decode spelled it.
        """
        commit: list[Word] = []
        source = self.latest or self.buffer  # what the latest decode heard
        while source and source[0].end < t:
            commit.append(self._monotonic(source.pop(0)))
        if commit and source is self.latest:
            self.buffer = self._after_last_commit(self.buffer)
        self.committed_in_buffer.extend(commit)
        return commit

    def reopen(self, after_s: float) -> None:
        """Take back the commits that end after ``after_s`` (words not handed out yet): the next
        hypothesis decides them again."""
        self.committed_in_buffer = [w for w in self.committed_in_buffer if w.end <= after_s]
        self.last_committed_time = min(self.last_committed_time, after_s)
        self.buffer, self.new, self.latest = [], [], []

    def commit_all(self) -> list[Word]:
        """Commit the whole current hypothesis (end of an utterance: no later audio can change it)."""
        words = self.new or self.latest or self.buffer
        commit = [self._monotonic(w) for w in words]
        self.buffer, self.new, self.latest = [], [], []
        self.committed_in_buffer.extend(commit)
        return commit

    def _monotonic(self, word: Word) -> Word:
        start = max(word.start, self.last_committed_time)
        end = max(word.end, start)
        self.last_committed_time = end
        if (start, end) == (word.start, word.end):
            return word
        return Word(start, end, word.text, word.probability)

    def pop_committed(self, before_s: float) -> None:
        """Forget committed words that end before ``before_s`` (they left the audio buffer)."""
        while self.committed_in_buffer and self.committed_in_buffer[0].end <= before_s:
            self.committed_in_buffer.pop(0)

    def uncommitted(self) -> list[Word]:
        """The latest decode's words after the committed ones."""
        return list(self.latest or self.buffer)
