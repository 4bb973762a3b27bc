"""Precision and recall of the free-text masking (server/privacy/masking.py) on the corpus the tests keep.

    .venv/bin/python -m bench.masking [--misses]

A sentence's marked span counts as found when spans of the same kind cover every one of its letters and digits
(half a phone number masked is a miss); a span found counts as right when it overlaps a marked span of the same
kind. Precision and recall are deterministic (tests/core/test_masking.py holds the aims); the time per sentence
printed last is this machine's.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from server.privacy.masking import Span, find

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "support" / "pii_corpus.jsonl"
KINDS = ("NIK", "TELEPON", "EMAIL", "NAMA", "ALAMAT", "TANGGAL LAHIR")


@dataclass
class Score:
    marked: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)  # marked spans fully covered
    predicted: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)  # predicted spans overlapping a marked one
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # kind, value, sentence
    wrong: list[tuple[str, str, str]] = field(default_factory=list)

    def recall(self, kind: str) -> float:
        return self.found[kind] / self.marked[kind] if self.marked[kind] else 1.0

    def precision(self, kind: str) -> float:
        return self.right[kind] / self.predicted[kind] if self.predicted[kind] else 1.0


def load(path: Path = CORPUS) -> list[tuple[str, list[Span]]]:
    sentences = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            sentences.append((item["text"], [Span(s["kind"], s["start"], s["end"]) for s in item["spans"]]))
    return sentences


def score(sentences: list[tuple[str, list[Span]]]) -> Score:
    result = Score()
    for text, marked in sentences:
        predicted = find(text)
        for gold in marked:
            result.marked[gold.kind] += 1
            covered = {i for p in predicted if p.kind == gold.kind for i in range(p.start, p.end)}
            if all(i in covered for i in range(gold.start, gold.end) if text[i].isalnum()):
                result.found[gold.kind] += 1
            else:
                result.misses.append((gold.kind, text[gold.start:gold.end], text))
        for span in predicted:
            kind = span.kind if span.kind in KINDS else "NOMOR"
            result.predicted[kind] += 1
            if any(g.kind == span.kind and g.start < span.end and span.start < g.end for g in marked):
                result.right[kind] += 1
            else:
                result.wrong.append((kind, text[span.start:span.end], text))
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    sentences = load()
    result = score(sentences)
    print(f"Masking: {len(sentences)} sentences in {CORPUS.relative_to(Path.cwd()) if CORPUS.is_relative_to(Path.cwd()) else CORPUS}")
    print("| kind | marked | found | recall | predicted | precision |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for kind in KINDS:
        print(f"| {kind} | {result.marked[kind]} | {result.found[kind]} | {result.recall(kind):.3f} "
              f"| {result.predicted[kind]} | {result.precision(kind):.3f} |")
    # The cost a log line pays: the request log writes one per request.
    started = time.perf_counter()
    for _ in range(5):
        for text, _marked in sentences:
            find(text)
    per_line = (time.perf_counter() - started) / (5 * len(sentences)) * 1e6
    print(f"\nmasking one sentence: {per_line:.0f} µs on average (5 passes over the corpus)")
    if "--misses" in argv:
        for kind, value, text in result.misses:
            print(f"miss  {kind:14} {value!r:40} in {text!r}")
        for kind, value, text in result.wrong:
            print(f"wrong {kind:14} {value!r:40} in {text!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
