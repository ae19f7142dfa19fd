"""Read a model's answer: parse it, repair what is safe to repair, turn it into a result.

A model asked for a JSON object in the answer schema (``LabelConfig.answer_schema``) mostly
returns one, but not always exactly: the object comes in a Markdown code fence or after a
sentence, a label comes back as "positive" for "Positive", a rating as "4". A run over many
tasks should neither fail those tasks nor guess, so each repair below is one whose outcome is
the only reading of the answer, and each is recorded in words so that a reviewer can see what
was changed. Anything else raises ``ModelOutputError`` (kind ``invalid_output``), which is
recorded as a failure and never stored as a prediction.

The repairs, and only these:

* text: a Markdown code fence around the whole answer is removed; one JSON object in
  surrounding prose is taken out of it (never one of several);
* structure: a one-field wrapper around the answer (``{"answer": {...}}``) is taken off; a
  field named with other case or whitespace is renamed; a missing field whose schema allows
  null or [] gets it (null given for a list becomes []); unknown fields are dropped, but only
  when no expected field is missing, since an unknown field may be a misnamed missing one;
* labels (Choices, Labels, Taxonomy paths): an option's value where its alias is the label,
  or a case/whitespace variant of exactly one label, or a near miss of exactly one label
  becomes that label; one label in a list of one is unwrapped where one label is expected,
  and wrapped in a list where a list is expected; repeated labels are dropped;
* numbers: a number written as a string is read ("4" -> 4); a whole float rating becomes an
  integer (4.0 -> 4). Numbers out of range are never clamped, and 4.5 stars stay an error.

Everything else, out-of-range numbers included, is checked once, by
``LabelConfig.answer_to_result``: the control classes whose rules also check imported results.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Literal

from prelabel.errors import ModelOutputError, ResultError
from prelabel.labeling import (
    Choices,
    Control,
    LabelConfig,
    Labels,
    Number,
    Option,
    Rating,
    Taxonomy,
    UnlocatedSpan,
)
from prelabel.labeling.objects import json_type

__all__ = ["NEAR_MISS_CUTOFF", "ReadAnswer", "read_answer", "read_answer_object"]

#: The ``difflib`` similarity a misspelt label needs to be read as that label.
NEAR_MISS_CUTOFF = 0.85
#: No other label may be this similar, so that a near miss never lands between two labels.
_RIVAL_CEILING = 0.75

# A fence around the whole answer: ```json ... ``` or ``` ... ```, also on one line.
_FENCE = re.compile(r"```(json)?(?![\w-])\s*(.*?)\s*```", re.IGNORECASE | re.DOTALL)
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
# NUL cannot be stored in PostgreSQL JSON, a lone surrogate cannot be encoded as UTF-8 at all.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SHOWN_LABELS = 20
_MAX_TRIES = 100

# What stands for "nothing" in a field's answer when it is missing: null, [] or nothing at all.
_Empty = Literal["null", "list", "required"]


@dataclass(frozen=True)
class ReadAnswer:
    """A model's answer as prelabel keeps it, and what it took to read it.

    ``answer`` is the repaired answer, valid against the answer schema, and ``result`` its
    Label Studio regions. ``repairs`` says in words what was changed to read it, for the
    prediction's record. ``unlocated`` holds the spans the answer names that are not in the
    task's text: they are missing from ``result``, which is not a failure.
    """

    answer: dict[str, Any]
    result: list[dict[str, Any]]
    repairs: tuple[str, ...]
    unlocated: tuple[UnlocatedSpan, ...]


def read_answer(config: LabelConfig, text: str, data: Mapping[str, Any]) -> ReadAnswer:
    """Read the text a model answered with, repairing only what has a single reading.

    Raises ModelOutputError, carrying the text as its excerpt, when the answer cannot be read
    safely, and TaskDataError when span answers need text that ``data`` lacks.
    """
    repairs: list[str] = []
    try:
        return _read(config, _parse(text, repairs), data, repairs)
    except _Unreadable as error:
        raise ModelOutputError(str(error), excerpt=text) from None


def read_answer_object(config: LabelConfig, answer: object, data: Mapping[str, Any]) -> ReadAnswer:
    """Read an answer a provider has already parsed (tool use): ``read_answer`` minus the text.

    The same checks and repairs apply, except those of the text (fences, surrounding prose).
    """
    try:
        return _read(config, answer, data, [])
    except _Unreadable as error:
        raise ModelOutputError(str(error), excerpt=_show(answer)) from None


class _Unreadable(Exception):
    """The answer cannot be read safely; the message says why, for ModelOutputError."""


def _read(
    config: LabelConfig, value: object, data: Mapping[str, Any], repairs: list[str]
) -> ReadAnswer:
    """Repair a parsed answer, convert it, and check that what is kept can be stored."""
    answer = _repair_answer(config, value, repairs)
    try:
        conversion = config.answer_to_result(answer, data)
    except ResultError as error:
        raise _Unreadable(error.message) from None
    _check_storable(answer)
    return ReadAnswer(answer, conversion.result, tuple(repairs), tuple(conversion.unlocated))


# --- Text -----------------------------------------------------------------------------------


def _parse(text: str, repairs: list[str]) -> object:
    """The JSON value a text holds, out of a code fence or surrounding prose when need be.

    Error positions count in ``text`` itself, so that they point into the recorded excerpt.
    """
    body = text.strip()
    if not body:
        raise _Unreadable("the answer is empty")
    start = len(text) - len(text.lstrip())
    fence = _FENCE.fullmatch(body)
    if fence is not None:
        repairs.append(f"removed a ```{fence[1] or ''} code fence")
        start += fence.start(2)
        body = fence[2]
    try:
        with _json_limits():
            return _DECODER.decode(body)
    except json.JSONDecodeError as error:
        not_json = f"not JSON: {error.msg} at {_position(text, start + error.pos)}"
    embedded = _embedded_object(body)
    if embedded is None:
        raise _Unreadable(not_json)
    repairs.append("took the JSON object out of surrounding text")
    return embedded


def _embedded_object(body: str) -> dict[str, Any] | None:
    """The one JSON object written among other text; None when there is none.

    Each ``{`` outside what was already read is tried, so prose with braces of its own does not
    hide the object; a ``{`` inside broken JSON is part of it, not prose, and is not tried.
    Several objects are refused: picking one would be a guess. Each failed try costs time in
    the length of the text, so only the first ``_MAX_TRIES`` are made.
    """
    found: list[dict[str, Any]] = []
    start, tries = body.find("{"), 0
    while start != -1 and tries < _MAX_TRIES:
        try:
            with _json_limits():
                value, end = _DECODER.raw_decode(body, start)
        except json.JSONDecodeError as error:
            start, tries = body.find("{", max(start + 1, error.pos)), tries + 1
            continue
        found.append(value)
        start = body.find("{", end)
    if len(found) > 1:
        raise _Unreadable(f"the text holds {len(found)} JSON objects, expected one")
    return found[0] if found else None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's fields; a repeated key would silently keep its last value, so it is refused."""
    fields = dict(pairs)
    if len(fields) < len(pairs):
        repeated = next(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
        raise _Unreadable(f"not JSON that reads one way: the key {_show(repeated)} appears twice")
    return fields


def _no_constant(name: str) -> object:
    """Python reads NaN and Infinity, which JSON does not have and no schema accepts."""
    raise _Unreadable(f"not JSON: {name} is not a JSON value")


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_no_constant)


@contextmanager
def _json_limits() -> Iterator[None]:
    """Turn what Python cannot decode in valid JSON into _Unreadable; syntax errors go through."""
    try:
        yield
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise _Unreadable("not JSON that can be read: nested too deeply") from None
    except ValueError as error:  # an integer of more digits than Python converts
        raise _Unreadable(f"not JSON that can be read: {error}") from None


def _position(text: str, index: int) -> str:
    """Line and column of ``index``, counted the way ``json`` counts them."""
    line = text.count("\n", 0, index) + 1
    column = index - text.rfind("\n", 0, index)
    return f"line {line} column {column}"


# --- Structure ------------------------------------------------------------------------------


def _repair_answer(config: LabelConfig, value: object, repairs: list[str]) -> dict[str, Any]:
    """The answer with its fields matched to the controls and each value repaired."""
    if not isinstance(value, Mapping):
        raise _Unreadable(f"the answer is {_a(value)}, expected an object")
    fields = _fields(config.answer_schema())
    answer = _match_fields(_unwrap(value, list(fields), repairs), fields, "", repairs)
    return {
        name: _repair_value(config.controls[name], answer[name], fields[name], repairs)
        for name in answer
    }


def _fields(schema: Mapping[str, Any]) -> dict[str, _Empty]:
    """The fields an object schema asks for and what each may be left as, in schema order."""
    return {name: _empty(field) for name, field in schema["properties"].items()}


def _empty(schema: Mapping[str, Any]) -> _Empty:
    """What a field's schema lets stand for "nothing": [] for a list, null when allowed."""
    kind = schema["type"]
    if kind == "array":
        return "list"
    return "null" if isinstance(kind, list) and "null" in kind else "required"


def _unwrap(
    given: Mapping[Any, Any], names: Sequence[str], repairs: list[str]
) -> Mapping[Any, Any]:
    """The answer inside a one-field wrapper such as ``{"answer": {...}}``, else ``given``.

    Safe because the wrapper field names no control and every field inside names one: the
    wrapper carries nothing, and the object inside can be read in one way only.
    """
    if len(given) != 1:
        return given
    [(key, inner)] = given.items()
    if (
        _field_name(key, names) is not None
        or not isinstance(inner, Mapping)
        or not inner
        or any(_field_name(field, names) is None for field in inner)
    ):
        return given
    repairs.append(f"took the answer out of the wrapper field {_show(key)}")
    return inner


def _match_fields(
    given: Mapping[Any, Any], fields: Mapping[str, _Empty], where: str, repairs: list[str]
) -> dict[str, Any]:
    """``given`` keyed by ``fields``, in their order: keys matched, missing ones filled, unknown
    ones dropped, each where it is safe.

    An unknown field is dropped only when no field is missing, because it may be the missing
    one misnamed ("explanation" for "comment"); dropping it and filling the gap would lose it.
    """
    names = list(fields)
    matched: dict[str, Any] = {}
    keys: dict[str, object] = {}
    unknown: list[object] = []
    for key, value in given.items():
        name = _field_name(key, names)
        if name is None:
            unknown.append(key)
        elif name in keys:
            both = f"fields {_show(keys[name])} and {_show(key)} both name {_show(name)}"
            raise _Unreadable(_at(where, both))
        else:
            keys[name], matched[name] = key, value
    missing = [name for name in fields if name not in matched]
    if unknown and missing:
        raise _Unreadable(
            _at(where, f"unknown field {_names(unknown)} and missing field {_names(missing)}")
        )
    for name, key in keys.items():
        if key != name:
            repairs.append(_at(where, f"field {_show(key)} -> {_show(name)} ({_how(key, name)})"))
    repairs.extend(_at(where, f"ignored unknown field {_show(key)}") for key in unknown)
    for name in missing:
        if fields[name] == "required":
            raise _Unreadable(_at(where, f"missing field {_show(name)}"))
        matched[name] = [] if fields[name] == "list" else None
        repairs.append(
            _at(where, f"filled missing field {_show(name)} with {_show(matched[name])}")
        )
    return {name: matched[name] for name in fields}


def _field_name(key: object, names: Sequence[str]) -> str | None:
    """The field a key names: itself, or the one field it equals but for case and whitespace."""
    if not isinstance(key, str):
        return None
    if key in names:
        return key
    alike = [name for name in names if _fold(name) == _fold(key)]
    return alike[0] if len(alike) == 1 else None


# --- Values ---------------------------------------------------------------------------------


def _repair_value(control: Control, value: object, empty: _Empty, repairs: list[str]) -> object:
    """One control's answer, repaired by the rules of its kind; other kinds pass unchanged."""
    name = control.name
    if value is None and empty != "required":
        if empty == "list":
            repairs.append(f"{name}: null -> [] (empty list)")
            return []
        return None
    match control:
        case Choices(multiple=False):
            return _one_label(name, value, _Vocabulary.of_options(control.options), repairs)
        case Choices():
            return _label_list(name, value, _Vocabulary.of_options(control.options), repairs)
        case Taxonomy():
            return _label_list(name, value, _Vocabulary.of_taxonomy(control), repairs)
        case Labels():
            return _spans(control, value, repairs)
        case Rating():
            return _number(name, value, repairs, whole=True)
        case Number():
            return _number(name, value, repairs, whole=False)
    return value


def _one_label(where: str, value: object, vocabulary: _Vocabulary, repairs: list[str]) -> str:
    """One label, out of a list of one if need be."""
    if isinstance(value, list):
        if len(value) != 1:
            raise _Unreadable(f"{where}: expected one choice, got a list of {len(value)}")
        repairs.append(f"{where}: {_show(value)} -> {_show(value[0])} (unwrapped a list of one)")
        value = value[0]
    return vocabulary.label(value, where, repairs)


def _label_list(
    where: str, value: object, vocabulary: _Vocabulary, repairs: list[str]
) -> list[str]:
    """A list of distinct labels; one label alone is put in a list."""
    if isinstance(value, str):
        repairs.append(f"{where}: {_show(value)} -> {_show([value])} (wrapped in a list)")
        value = [value]
    if not isinstance(value, list):
        raise _Unreadable(f"{where}: expected a list, got {_a(value)}")
    labels = [vocabulary.label(item, where, repairs) for item in value]
    for label, count in Counter(labels).items():
        if count > 1:
            repairs.append(f"{where}: dropped {_show(label)} repeated {count - 1} more time(s)")
    return list(dict.fromkeys(labels))


def _spans(control: Labels, value: object, repairs: list[str]) -> list[dict[str, Any]]:
    """Span items with their fields matched and labels repaired; one span alone is listed.

    Repeated spans stay: listing a text twice names its first and second occurrence.
    """
    if isinstance(value, Mapping):
        repairs.append(f"{control.name}: one span -> a list of one (wrapped in a list)")
        value = [value]
    if not isinstance(value, list):
        raise _Unreadable(f"{control.name}: expected a list of spans, got {_a(value)}")
    fields = _fields(control.schema()["items"])
    vocabulary = _Vocabulary.of_options(control.options)
    spans = []
    for index, item in enumerate(value):
        where = f"{control.name}[{index}]"
        if not isinstance(item, Mapping):
            raise _Unreadable(f"{where}: expected a span object, got {_a(item)}")
        span = _match_fields(item, fields, where, repairs)
        span["label"] = vocabulary.label(span["label"], f"{where}.label", repairs)
        spans.append(span)
    return spans


def _number(where: str, value: object, repairs: list[str], *, whole: bool) -> object:
    """A number, read from a string if need be; with ``whole``, a whole float as an integer.

    Bounds are left to the control's own check: a number out of range is an error, never
    clamped, since a clamped number is one the model did not give.
    """
    given, how = value, None
    if isinstance(value, str):
        value = _numeric(value)
        if value is None:
            raise _Unreadable(f"{where}: {_brief(given)} is not a number")
        how = "number in a string"
    if whole and isinstance(value, float) and value.is_integer():
        value = int(value)
        how = how or "whole number"
    if how is not None:
        repairs.append(f"{where}: {_show(given)} -> {_show(value)} ({how})")
    return value


def _numeric(text: str) -> int | float | None:
    """The finite number a string spells in JSON syntax ("4", " -2.5 ", "1e3"), else None."""
    stripped = text.strip()
    if not _JSON_NUMBER.fullmatch(stripped):
        return None
    try:
        number: int | float = json.loads(stripped)
    except ValueError:  # more digits than Python converts
        return None
    return number if math.isfinite(number) else None


# --- Labels ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Vocabulary:
    """The labels an answer may use, and every name that means one of them.

    ``names`` pairs each name with its label: every label names itself, and an option's value
    names its label when an alias made them differ. For a taxonomy the names are whole paths.
    """

    labels: tuple[str, ...]
    names: tuple[tuple[str, str], ...]

    @classmethod
    def of_options(cls, options: Sequence[Option]) -> _Vocabulary:
        labels = tuple(option.label for option in options)
        values = [(option.value, option.label) for option in options if option.alias is not None]
        return cls(labels, tuple(zip(labels, labels, strict=True)) + tuple(values))

    @classmethod
    def of_taxonomy(cls, control: Taxonomy) -> _Vocabulary:
        labels = tuple(control.paths)
        names = [(label, label) for label in labels]
        join = control.separator.join
        pending = [((option.label,), (option.value,), option) for option in control.options]
        while pending:
            label_path, value_path, option = pending.pop()
            if label_path != value_path and join(label_path) in control.paths:
                names.append((join(value_path), join(label_path)))
            pending.extend(
                (label_path + (child.label,), value_path + (child.value,), child)
                for child in option.children
            )
        return cls(labels, tuple(names))

    def label(self, given: object, where: str, repairs: list[str]) -> str:
        """The label ``given`` means, recording how it was read; _Unreadable when unclear.

        Tried in turn: a label; an option's value; a case/whitespace variant; a near miss.
        A step that finds two labels stops the search, since any choice would be a guess.
        """
        if not isinstance(given, str):
            raise _Unreadable(f"{where}: expected one of {self._listing()}, got {_a(given)}")
        if given in self.labels:
            return given
        found = self._reading(given, where)
        if found is None:
            raise _Unreadable(f"{where}: {_brief(given)} is not one of {self._listing()}")
        label, how = found
        repairs.append(f"{where}: {_show(given)} -> {_show(label)} ({how})")
        return label

    def _reading(self, given: str, where: str) -> tuple[str, str] | None:
        """The label a string that is no label means, and how it was read; None for none."""
        exact = self._one(given, where, lambda name: name == given)
        if exact is not None:
            return exact[1], "value of the option"
        folded = _fold(given)
        alike = self._one(given, where, lambda name: _fold(name) == folded)
        if alike is not None:
            name, label = alike
            return label, _how(given, name) + (", value of the option" if name != label else "")
        near = self._near_miss(given)
        return None if near is None else (near[1], "near miss")

    def _one(self, given: str, where: str, same: Callable[[str], bool]) -> tuple[str, str] | None:
        """The (name, label) of the one label having a name that is ``same``; None for none."""
        hits: dict[str, str] = {}
        for name, label in self.names:  # labels come first, so a label beats a value
            if same(name):
                hits.setdefault(label, name)
        if len(hits) > 1:
            raise _Unreadable(f"{where}: {_brief(given)} could be any of {', '.join(hits)}")
        return next(((name, label) for label, name in hits.items()), None)

    def _near_miss(self, given: str) -> tuple[str, str] | None:
        """The (name, label) ``given`` misspells: similar enough, with no other label close.

        Similarity is difflib's ratio (what ``get_close_matches`` uses) on case-folded text,
        computed here because the rule also needs the runner-up's score.
        """
        matcher = SequenceMatcher(autojunk=False)
        matcher.set_seq2(_fold(given))
        best: dict[str, tuple[float, str]] = {}
        for name, label in self.names:
            matcher.set_seq1(_fold(name))
            if (
                matcher.real_quick_ratio() < _RIVAL_CEILING
                or matcher.quick_ratio() < _RIVAL_CEILING
            ):
                continue
            score = matcher.ratio()
            if score >= _RIVAL_CEILING and score > best.get(label, (0.0, ""))[0]:
                best[label] = (score, name)
        if len(best) != 1:
            return None
        [(label, (score, name))] = best.items()
        return (name, label) if score >= NEAR_MISS_CUTOFF else None

    def _listing(self) -> str:
        """The labels for an error message; a long taxonomy is cut short."""
        shown = ", ".join(self.labels[:_SHOWN_LABELS])
        more = len(self.labels) - _SHOWN_LABELS
        return f"{shown} and {more} more" if more > 0 else shown


def _fold(text: str) -> str:
    """Text as compared when case and whitespace do not count."""
    return " ".join(text.casefold().split())


def _how(given: str, name: str) -> str:
    """How a name that folds to ``name`` differs from it: case, whitespace or both."""
    if given.casefold() == name.casefold():
        return "case"
    if given.split() == name.split():
        return "whitespace"
    return "case and whitespace"


# --- Messages and storage -------------------------------------------------------------------


def _check_storable(answer: Mapping[str, Any]) -> None:
    """Refuse text the database cannot hold, which would otherwise fail the whole batch."""
    for name, value in answer.items():
        for text in _strings(value):
            bad = _UNSTORABLE.search(text)
            if bad is None:
                continue
            if bad[0] == "\x00":
                raise _Unreadable(f"{name}: a NUL character (\\u0000) cannot be stored")
            raise _Unreadable(f"{name}: a lone surrogate (\\u{ord(bad[0]):04x}) is not valid text")


def _strings(value: object) -> Iterator[str]:
    """Every string in a converted answer, whose depth the schema bounds."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _at(where: str, text: str) -> str:
    return f"{where}: {text}" if where else text


def _a(value: object) -> str:
    """A value's JSON type with its article, for messages: "a list", "an object", "null"."""
    kind = json_type(value)
    return {"array": "a list", "object": "an object", "null": "null"}.get(kind, f"a {kind}")


def _names(keys: Sequence[object]) -> str:
    return ", ".join(_show(key) for key in keys)


def _show(value: object) -> str:
    """A value as JSON for records, with the characters the database cannot store escaped."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (ValueError, RecursionError):  # a cycle, or nesting deeper than Python recurses
        text = f"({_a(value)} that has no JSON form)"
    return _UNSTORABLE.sub(lambda char: f"\\u{ord(char[0]):04x}", text)


def _brief(text: str) -> str:
    """A string for an error message, cut short: a model may answer with a whole paragraph."""
    return repr(text if len(text) <= 60 else text[:57] + "...")
