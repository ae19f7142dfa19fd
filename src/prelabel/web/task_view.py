"""What the task page shows: the task's data per object tag, results read as answers, spans
highlighted in their labels' colours, and the answers its edit form starts from.

Everything here is presentation over a parsed config and the task as ``task_detail`` gives
it; nothing reads the database. A result the config no longer fits (the config changed
after it was made) is still shown, as its regions say, without highlights.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import orjson

from prelabel.errors import ValidationError
from prelabel.labeling import Choices, LabelConfig, Labels, Number, Rating, TextArea

#: Colours of labels the config gives none, by the label's place in its control: the same
#: label has the same colour on every task.
PALETTE = (
    "#f59e0b",
    "#3b82f6",
    "#10b981",
    "#ec4899",
    "#8b5cf6",
    "#ef4444",
    "#14b8a6",
    "#84cc16",
    "#f97316",
    "#6366f1",
)
#: A ``background`` the page passes on: a hex colour, a colour name or an rgb()/hsl() value.
_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,30}|(?:rgb|hsl)a?\([0-9.,%\s/]+\)")
#: The controls whose answers the page's form edits, in the order of their kinds.
EDITABLE = (Choices, TextArea, Number, Rating)


@dataclass(frozen=True)
class Span:
    """A labelled span of a Text object, in code points."""

    object_name: str
    start: int
    end: int
    text: str
    labels: tuple[str, ...]
    colour: str


@dataclass(frozen=True)
class Segment:
    """A piece of text under the same spans; ``ending`` are those that end with it."""

    text: str
    spans: tuple[Span, ...] = ()
    ending: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Answer:
    """What one control's regions say, readably: values to list, or spans."""

    control: str
    tag: str
    values: tuple[str, ...] = ()
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True)
class ShownObject:
    """An object tag of the config with what it shows for this task."""

    name: str
    tag: str
    field: str | None
    text: str | None = None
    paragraphs: tuple[tuple[str | None, str], ...] = ()
    url: str | None = None
    segments: tuple[Segment, ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class ResultView:
    """A result read for the page: its answers, its spans, and whether they could be placed."""

    answers: tuple[Answer, ...]
    spans: tuple[Span, ...] = ()
    placed: bool = True
    current: Mapping[str, Any] = field(default_factory=dict)


def result_cards(
    config: LabelConfig, detail: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The annotations and the predictions of a task (as ``task_detail`` gives it), each with
    its result read (``view``); a prediction also with the annotation it was accepted as and
    its model version's agreement with the ground truth."""
    data = detail["data"]
    accepted = {
        a["parent_prediction"]: a["id"] for a in detail["annotations"] if a["parent_prediction"]
    }
    annotations = [
        {**a, "view": read_result(config, a["result"], data)} for a in detail["annotations"]
    ]
    predictions = [
        {
            **p,
            "view": read_result(config, p["result"], data),
            "accepted_as": accepted.get(p["id"]),
            "agreement": detail["agreement"].get(p["model_version"]),
        }
        for p in detail["predictions"]
    ]
    return annotations, predictions


def by_model_version(predictions: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Predictions under their model versions, in the order each version first appears."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for prediction in predictions:
        groups.setdefault(prediction["model_version"], []).append(prediction)
    return groups


def shown_result(
    config: LabelConfig,
    show: str,
    annotations: Sequence[dict[str, Any]],
    predictions: Sequence[dict[str, Any]],
) -> dict[str, Any] | None:
    """The annotation or prediction whose spans the text highlights: the one ``show`` names
    (``annotation-3``, ``prediction-5``), else the newest ground truth, else the newest
    annotation not cancelled, else the first prediction; None when the config has no spans."""
    if not any(isinstance(control, Labels) for control in config.controls.values()):
        return None
    kind, _, number = show.partition("-")
    for item in {"annotation": annotations, "prediction": predictions}.get(kind, []):
        if number.isdecimal() and item["id"] == int(number):
            return {"kind": kind, "item": item}
    live = [a for a in annotations if not a["was_cancelled"]]
    truths = [a for a in live if a["ground_truth"]]
    if truths or live:
        return {"kind": "annotation", "item": (truths or live)[-1]}
    return {"kind": "prediction", "item": predictions[0]} if predictions else None


def legend(config: LabelConfig) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each Labels control with its labels and their colours."""
    colours = label_colours(config)
    return [
        (control.name, [(o.label, colours[(control.name, o.label)]) for o in control.options])
        for control in config.controls.values()
        if isinstance(control, Labels)
    ]


def label_colours(config: LabelConfig) -> dict[tuple[str, str], str]:
    """``(control, label) -> colour`` for every Labels option, by value and by alias: the
    config's ``background`` when it is a colour, else the palette's colour of its place."""
    colours: dict[tuple[str, str], str] = {}
    for control in config.controls.values():
        if isinstance(control, Labels):
            for index, option in enumerate(control.options):
                background = option.background
                if background is None or not _COLOUR.fullmatch(background.strip()):
                    background = PALETTE[index % len(PALETTE)]
                for name in (option.value, option.label):
                    colours[(control.name, name)] = background.strip()
    return colours


def read_result(
    config: LabelConfig, result: Sequence[Mapping[str, Any]], data: Mapping[str, Any]
) -> ResultView:
    """The answers of ``result`` in config order (regions of unknown controls last), with its
    spans in code points; spans whose offsets cannot be placed are listed by their text."""
    colours = label_colours(config)
    placed = True
    try:
        regions: Sequence[Mapping[str, Any]] = config.convert_span_offsets(
            result, data, "codepoint"
        )
    except ValidationError:
        regions, placed = result, False
    by_control: dict[str, list[Mapping[str, Any]]] = {}
    for region in regions:
        if isinstance(region, Mapping):
            name = region.get("from_name") if region.get("type") != "relation" else "relation"
            by_control.setdefault(str(name), []).append(region)
    order = [*config.controls, *(name for name in by_control if name not in config.controls)]
    answers = []
    spans: list[Span] = []
    for name in order:
        found = by_control.get(name)
        if not found:
            continue
        answer = _answer(config, name, found, colours)
        answers.append(answer)
        spans.extend(answer.spans)
    current = {
        name: _current(control, by_control.get(name, []))
        for name, control in config.controls.items()
        if isinstance(control, EDITABLE)
    }
    return ResultView(tuple(answers), tuple(spans) if placed else (), placed, current)


def shown_objects(
    config: LabelConfig, data: Mapping[str, Any], spans: Sequence[Span] = ()
) -> list[ShownObject]:
    """Each object tag with what it shows of ``data``; Text objects with ``spans`` marked."""
    shown = []
    for obj in config.objects.values():
        base = {"name": obj.name, "tag": obj.tag, "field": obj.field}
        try:
            if obj.tag == "Image":
                shown.append(ShownObject(**base, url=_safe_url(_image_url(obj.value, data, obj))))
            elif obj.tag == "Paragraphs" and obj.field is not None:
                obj.check_data(data)
                items = _lookup(data, obj.field)
                lines = tuple(
                    (_text(item.get(obj.name_key)), _text(item.get(obj.text_key, "")))
                    for item in items
                )
                shown.append(ShownObject(**base, paragraphs=lines))
            elif obj.tag == "HyperText":
                shown.append(ShownObject(**base, text=_html_text(obj.text(data) or "")))
            else:
                text = obj.text(data) or ""
                own = [span for span in spans if span.object_name == obj.name]
                shown.append(ShownObject(**base, text=text, segments=tuple(segments(text, own))))
        except ValidationError as exc:
            shown.append(ShownObject(**base, problem=exc.message))
    return shown


def segments(text: str, spans: Sequence[Span]) -> list[Segment]:
    """``text`` cut where spans start and end, each piece with the spans over it."""
    inside = [span for span in spans if 0 <= span.start < span.end <= len(text)]
    cuts = sorted({0, len(text), *(s.start for s in inside), *(s.end for s in inside)})
    pieces = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        over = tuple(span for span in inside if span.start <= start and end <= span.end)
        ending = tuple(span for span in over if span.end == end)
        pieces.append(Segment(text[start:end], over, ending))
    return pieces


def editable_controls(config: LabelConfig) -> list[Any]:
    """The controls whose answers the edit form changes, in config order."""
    return [control for control in config.controls.values() if isinstance(control, EDITABLE)]


def _answer(
    config: LabelConfig,
    name: str,
    regions: Sequence[Mapping[str, Any]],
    colours: Mapping[tuple[str, str], str],
) -> Answer:
    control = config.controls.get(name)
    if name == "relation" and control is None:
        values = tuple(
            f"{region.get('from_id')} → {region.get('to_id')}"
            + (f" ({', '.join(map(str, labels))})" if (labels := region.get("labels")) else "")
            for region in regions
        )
        return Answer(name, "Relation", values)
    if control is None:
        return Answer(name, "?", tuple(_json(region.get("value")) for region in regions))
    values: list[str] = []
    spans: list[Span] = []
    for region in regions:
        value = region.get("value")
        if not isinstance(value, Mapping):
            values.append(_json(value))
            continue
        if isinstance(control, Labels):
            spans.append(_span(control.name, region, value, colours))
        elif isinstance(control, Rating):
            rating = value.get("rating")
            values.append(f"{rating} of {control.max_rating}")
        elif control.type in value:
            values.extend(_values(control.type, value[control.type]))
        elif "text" in value:
            values.extend(_values("textarea", value["text"]))
        else:
            values.append(_json(value))
    return Answer(name, control.tag, tuple(values), tuple(sorted(spans, key=_span_order)))


def _values(kind: str, value: Any) -> list[str]:
    if kind == "taxonomy" and isinstance(value, list):
        return [
            " / ".join(map(str, path)) if isinstance(path, list) else str(path) for path in value
        ]
    if isinstance(value, list):
        return [item if isinstance(item, str) else _json(item) for item in value]
    return [_json(value) if not isinstance(value, str) else value]


def _span(
    control: str,
    region: Mapping[str, Any],
    value: Mapping[str, Any],
    colours: Mapping[tuple[str, str], str],
) -> Span:
    labels = tuple(str(label) for label in value.get("labels") or ())
    start, end = value.get("start"), value.get("end")
    return Span(
        object_name=str(region.get("to_name")),
        start=start if isinstance(start, int) else -1,
        end=end if isinstance(end, int) else -1,
        text=str(value.get("text", "")),
        labels=labels,
        colour=colours.get((control, labels[0]), PALETTE[0]) if labels else PALETTE[0],
    )


def _span_order(span: Span) -> tuple[int, int]:
    return span.start, span.end


def _current(control: Any, regions: Sequence[Mapping[str, Any]]) -> Any:
    """The answer the edit form starts from: chosen labels, a text, a number or a rating."""
    values = [region.get("value") for region in regions]
    values = [value for value in values if isinstance(value, Mapping)]
    if isinstance(control, Choices):
        chosen = {choice for value in values for choice in value.get("choices") or ()}
        return {option.label for option in control.options if {option.value, option.label} & chosen}
    if isinstance(control, TextArea):
        return "\n".join(text for value in values for text in value.get("text") or ())
    key = "number" if isinstance(control, Number) else "rating"
    found = [value.get(key) for value in values]
    return found[0] if found else None


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for key in path.split("."):
        value = value[key]
    return value


def _image_url(value: str, data: Mapping[str, Any], obj: Any) -> str:
    if obj.field is None:
        return value
    obj.check_data(data)
    return str(_lookup(data, obj.field))


def _safe_url(url: str) -> str | None:
    """``url`` when following it cannot run a script (http, https or a path), else None."""
    scheme = urlsplit(url.strip()).scheme.lower()
    return url.strip() if scheme in ("http", "https", "") else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else _json(value))


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return repr(value)


class _TextOf(HTMLParser):
    """The text of an HTML document, without its markup, scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skipping += 1
        elif tag in ("br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _html_text(html: str) -> str:
    """What a HyperText object reads as, shown as text: its markup is not rendered."""
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    return re.sub(r"\n\s*\n+", "\n\n", "".join(parser.parts)).strip()
