"""The local provider: labels by embedding similarity, offline, with no key.

No generative model small enough to ship in a package follows a labeling prompt, but sentence
embeddings classify well. Each option of a control gets a description — a line of the prompt
such as ``Positive: the reviewer liked it``, else the option's ``hint``, else its name — and
the task (the rendered prompt without those lines) is compared with every description. With
ground truth in the project, each option's vector is blended with the centroid of the
ground-truth examples that carry it (few-shot); a task's own annotation is always left out of
the centroids that answer it (leave-one-out), so an evaluation never sees its own answer.

Similarities become probabilities by a softmax at ``TEMPERATURE``; the chosen option's
probability is the prediction's score. Multiple choices (and Taxonomy paths) are every option
above a threshold, chosen on the ground truth when there is some.

Only Choices, Taxonomy and Rating can be answered this way: ``check_local_controls`` refuses
a config with any other control.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from prelabel.errors import ValidationError
from prelabel.labeling import Choices, Control, LabelConfig, Rating, Taxonomy
from prelabel.providers.base import ChatRequest, ChatResponse
from prelabel.providers.embedders import Embedder

#: Softmax temperature over cosine similarities, which e5 keeps within a narrow band.
TEMPERATURE = 0.02
#: How many examples a description weighs in a few-shot class vector.
DESCRIPTION_WEIGHT = 2.0
#: Most task texts embedded in one call.
BATCH = 32
_LOCAL_CONTROLS = (Choices, Taxonomy, Rating)


@dataclass(frozen=True)
class Example:
    """A ground-truth task: its rendered prompt and its annotation as an answer."""

    task_id: int
    text: str
    answer: Mapping[str, Any]


def check_local_controls(config: LabelConfig) -> None:
    """ValidationError naming the first control the local model cannot answer."""
    for control in config.controls.values():
        if not isinstance(control, _LOCAL_CONTROLS):
            raise ValidationError(
                f"the local model cannot answer the {control.tag} control {control.name!r}: it "
                "classifies Choices, Taxonomy and Rating only; use an 'openai' or 'anthropic' "
                "connection for this project"
            )


@dataclass
class _Head:
    """One control's options: what the answer names, how each option reads, its examples."""

    control: Control
    labels: list[str]
    names: list[str]
    hints: list[str | None]
    multiple: bool
    sums: np.ndarray | None = None
    counts: np.ndarray | None = None
    threshold: float | None = None
    members: dict[int, list[int]] = field(default_factory=dict)


class LocalProvider:
    """Answers a labeling request from embeddings of the task and of each option.

    ``examples`` are the project's ground-truth tasks, rendered with the same template.
    """

    def __init__(
        self, embedder: Embedder, config: LabelConfig, examples: Sequence[Example] = ()
    ) -> None:
        check_local_controls(config)
        self.embedder = embedder
        self._heads = [_head(control) for control in config.controls.values()]
        self._examples = list(examples)
        self._example_rows: dict[int, int] = {}
        self._example_vectors: np.ndarray | None = None
        self._descriptions: dict[tuple[str, ...], list[np.ndarray]] = {}
        self._lock = asyncio.Lock()
        self._waiting: list[tuple[str, asyncio.Future[tuple[np.ndarray, int]]]] = []
        self._drainer: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(embedder={self.embedder.name!r})"

    async def complete(self, request: ChatRequest, *, timeout: float) -> ChatResponse:
        """Classify the task of ``request``; ``timeout`` does not apply to local work.

        Tasks asked at once are embedded together, up to ``BATCH`` texts per call, which
        saves a round trip per text on an embeddings endpoint.
        """
        prompt = str(request.messages[-1]["content"])
        lines = self._option_lines(prompt)
        async with self._lock:  # examples and descriptions are embedded once, by one caller
            classes = await asyncio.to_thread(self._prepare, prompt, lines)
        query, tokens = await self._embed_in_batch(_without(prompt, lines))
        return self._answer(request, query, tokens, classes)

    async def aclose(self) -> None:
        return None

    def _prepare(self, prompt: str, lines: Mapping[str, str]) -> list[np.ndarray]:
        self._learn_examples(prompt)
        return self._class_descriptions(lines)

    async def _embed_in_batch(self, text: str) -> tuple[np.ndarray, int]:
        """The text's vector and token count, embedded with whatever else is waiting."""
        future: asyncio.Future[tuple[np.ndarray, int]] = asyncio.get_running_loop().create_future()
        self._waiting.append((text, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        """Embed what is waiting, a batch at a time, until nothing is."""
        while self._waiting:
            batch, self._waiting = self._waiting[:BATCH], self._waiting[BATCH:]
            try:
                vectors, counts = await asyncio.to_thread(self._embed, [t for t, _ in batch])
            except Exception as error:
                for _, future in batch:
                    future.set_exception(error)
                continue
            for (_, future), vector, count in zip(batch, vectors, counts, strict=True):
                future.set_result((vector, count))

    def _embed(self, texts: list[str]) -> tuple[np.ndarray, list[int]]:
        return self.embedder.embed(texts), [self.embedder.count_tokens(t) for t in texts]

    def _answer(
        self, request: ChatRequest, query: np.ndarray, tokens: int, classes: list[np.ndarray]
    ) -> ChatResponse:
        answer: dict[str, Any] = {}
        confidences = []
        for head, descriptions in zip(self._heads, classes, strict=True):
            probabilities = self._probabilities(head, descriptions, query, request.task_id)
            value, confidence = _decide(head, probabilities)
            answer[head.control.name] = value
            confidences.append(confidence)
        return ChatResponse(
            text=None,
            parsed=answer,
            input_tokens=tokens,
            output_tokens=0,
            mode="embedding",
            model=self.embedder.name,
            rate_limits=None,
            score=float(np.mean(confidences)),
        )

    # Class vectors

    def _class_descriptions(self, lines: Mapping[str, str]) -> list[np.ndarray]:
        """Each head's description vectors; the same prompt lines embed once."""
        flat_key = tuple(f"{k}\0{v}" for k, v in sorted(lines.items()))
        if flat_key not in self._descriptions:
            texts = [
                [
                    _description(name, hint, lines)
                    for name, hint in zip(h.names, h.hints, strict=True)
                ]
                for h in self._heads
            ]
            vectors = self.embedder.embed([t for group in texts for t in group])
            split = np.cumsum([len(group) for group in texts])[:-1]
            self._descriptions[flat_key] = list(np.split(vectors, split))
        return self._descriptions[flat_key]

    def _probabilities(
        self, head: _Head, descriptions: np.ndarray, query: np.ndarray, task_id: int | None
    ) -> np.ndarray:
        vectors = descriptions * DESCRIPTION_WEIGHT
        if head.sums is not None and head.counts is not None:
            sums, counts = head.sums.copy(), head.counts.copy()
            own = self._example_rows.get(task_id) if task_id is not None else None
            if own is not None and self._example_vectors is not None:
                for option in head.members.get(own, []):
                    sums[option] -= self._example_vectors[own]
                    counts[option] -= 1
            centroids = sums / np.maximum(counts, 1)[:, None]
            vectors = vectors + centroids * counts[:, None]
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return _softmax(vectors @ query / TEMPERATURE)

    def _learn_examples(self, prompt: str) -> None:
        """Embed the ground-truth examples once, and set the multiple-choice thresholds."""
        if self._example_vectors is not None or not self._examples:
            return
        texts = [
            _without(example.text, self._option_lines(example.text)) for example in self._examples
        ]
        self._example_vectors = self.embedder.embed(texts)
        self._example_rows = {example.task_id: row for row, example in enumerate(self._examples)}
        for head in self._heads:
            _collect(head, self._examples, self._example_vectors)
        classes = self._class_descriptions(self._option_lines(prompt))
        for head, descriptions in zip(self._heads, classes, strict=True):
            if head.multiple:
                head.threshold = self._fitted_threshold(head, descriptions)

    def _fitted_threshold(self, head: _Head, descriptions: np.ndarray) -> float | None:
        """The probability threshold with the best micro-F1 over the examples (left out)."""
        assert self._example_vectors is not None
        truth, scores = [], []
        for row, example in enumerate(self._examples):
            if row not in head.members:
                continue
            probabilities = self._probabilities(
                head, descriptions, self._example_vectors[row], example.task_id
            )
            chosen = set(head.members[row])
            truth.extend(index in chosen for index in range(len(head.labels)))
            scores.extend(probabilities.tolist())
        if not truth:
            return None
        best, best_f1 = None, -1.0
        for candidate in sorted(set(scores)):
            predicted = [score >= candidate for score in scores]
            hits = sum(p and t for p, t in zip(predicted, truth, strict=True))
            f1 = 2 * hits / (sum(predicted) + sum(truth)) if hits else 0.0
            if f1 > best_f1:
                best, best_f1 = candidate, f1
        return best

    def _option_lines(self, prompt: str) -> dict[str, str]:
        """The prompt's ``option: description`` lines, by casefolded option name."""
        names = {name.casefold() for head in self._heads for name in head.names}
        return {label: text for label, text in _description_lines(prompt).items() if label in names}


def _head(control: Control) -> _Head:
    if isinstance(control, Taxonomy):
        leaves = [
            joined
            for joined, path in control.paths.items()
            if not any(
                len(other) > len(path) and other[: len(path)] == path
                for other in control.paths.values()
            )
        ]
        hints = [_taxonomy_hint(control, control.paths[joined]) for joined in leaves]
        return _Head(control, leaves, leaves, hints, multiple=True)
    if isinstance(control, Rating):
        stars = [str(n) for n in range(1, control.max_rating + 1)]
        hints = [f"{n} out of {control.max_rating}" for n in stars]
        return _Head(control, stars, stars, list(hints), multiple=False)
    assert isinstance(control, Choices)
    labels = [option.label for option in control.options]
    names = [option.value for option in control.options]
    hints = [option.hint for option in control.options]
    return _Head(control, labels, names, hints, multiple=control.multiple)


def _taxonomy_hint(control: Taxonomy, path: tuple[str, ...]) -> str | None:
    siblings, node = control.options, None
    for label in path:
        node = next(option for option in siblings if option.label == label)
        siblings = node.children
    return node.hint if node is not None else None


def _collect(head: _Head, examples: Sequence[Example], vectors: np.ndarray) -> None:
    """Each option's sum of example vectors and count, and which options each example has."""
    index = {label: i for i, label in enumerate(head.labels)}
    sums = np.zeros((len(head.labels), vectors.shape[1]), dtype=np.float32)
    counts = np.zeros(len(head.labels), dtype=np.float32)
    for row, example in enumerate(examples):
        value = example.answer.get(head.control.name)
        values = value if isinstance(value, list) else [] if value is None else [value]
        options = [index[str(v)] for v in values if str(v) in index]
        if not options:
            continue
        head.members[row] = options
        for option in options:
            sums[option] += vectors[row]
            counts[option] += 1
    if counts.any():
        head.sums, head.counts = sums, counts


def _decide(head: _Head, probabilities: np.ndarray) -> tuple[Any, float]:
    """The answer value of one head and how sure it is."""
    best = int(np.argmax(probabilities))
    if not head.multiple:
        value: Any = (
            int(head.labels[best]) if isinstance(head.control, Rating) else head.labels[best]
        )
        return value, float(probabilities[best])
    threshold = head.threshold if head.threshold is not None else 1.0 / len(head.labels)
    chosen = [i for i, p in enumerate(probabilities) if p >= threshold]
    if not chosen:
        return [], float(1.0 - probabilities[best])
    return [head.labels[i] for i in chosen], float(np.mean(probabilities[chosen]))


_LINE = re.compile(r"^\s*(?:[-*•]\s*)?(?P<label>[^:\n]{1,100}?)\s*:\s*(?P<text>\S.*?)\s*$")


def _description_lines(prompt: str) -> dict[str, str]:
    """``label: description`` lines of the prompt, by casefolded label."""
    lines = {}
    for line in prompt.splitlines():
        match = _LINE.match(line)
        if match:
            lines[match["label"].casefold()] = match["text"]
    return lines


def _without(prompt: str, lines: Mapping[str, str]) -> str:
    """The prompt without the lines that describe an option: what the task itself says."""
    kept = []
    for line in prompt.splitlines():
        match = _LINE.match(line)
        if match and match["label"].casefold() in lines:
            continue
        kept.append(line)
    return "\n".join(kept).strip() or prompt


def _description(name: str, hint: str | None, lines: Mapping[str, str]) -> str:
    text = lines.get(name.casefold()) or hint
    return f"{name}: {text}" if text else name


def _softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max())
    return shifted / shifted.sum()
