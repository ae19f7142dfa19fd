"""Prompt templates: task data fields written ``{text}`` or ``{meta.lang}``, braces as ``{{ }}``.

The grammar is deliberately smaller than ``str.format``: a variable is a data field path and
nothing else (no indexing, conversions or format specs). That is what lets a template be checked
against the labeling config when it is saved, so that rendering one for a stored task can only
fail when the task lacks a field. Variable names follow the grammar of ``$field`` in object tags
(letters, digits, ``_`` and ``-``, not starting with a digit, segments joined by single dots), so
every field a config reads can be written in a template.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prelabel.errors import TemplateError
from prelabel.labeling import LabelConfig

__all__ = ["Template", "check_template", "parse_template", "render_template"]

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*")
# A variable followed by what str.format would read as a conversion (!r) or a format spec (:>3).
_FORMATTED = re.compile(rf"({_VARIABLE.pattern})[!:]")
# Escaped braces first, so that "{{x}}" is the literal "{x}" as in str.format.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
# How much of a bad placeholder an error message quotes.
_SHOWN = 40
_GRAMMAR = (
    "a variable is a data field such as {text} or {meta.lang} (letters, digits, _ and -, "
    "not starting with a digit, segments joined by single dots); write {{ and }} for "
    "literal braces"
)


@dataclass(frozen=True)
class Template:
    """A parsed template: its text and the variables it uses, in order of first use, each once.

    Build one with ``parse_template``. Rendering reads ``text`` again rather than keeping parsed
    pieces, so a template stored as text and one just parsed cannot render differently.
    """

    text: str
    variables: tuple[str, ...]


@dataclass(frozen=True)
class _Variable:
    """A ``{field}`` of a template, as opposed to the literal text around it."""

    name: str


def parse_template(text: str) -> Template:
    """Parse a template; TemplateError says what is wrong and where (line and column).

    A blank template is refused: it would send the model nothing to read.
    """
    if not text.strip():
        raise TemplateError(
            "the template is empty; write the prompt, with variables such as {text}"
        )
    names = (piece.name for piece in _pieces(text) if isinstance(piece, _Variable))
    return Template(text=text, variables=tuple(dict.fromkeys(names)))


def check_template(template: Template, config: LabelConfig) -> None:
    """Raise TemplateError unless every variable is a data field the labeling config reads.

    Only those fields are allowed, because importing a task checks that it has them: a template
    that passes renders for every stored task. Other keys of task data would be present on some
    tasks and not others, and each miss would surface only as a failed task in the middle of a
    paid run; to use such a key, add an object tag that reads it to the config. A template with no
    variable at all is refused too when the config reads any field, since every task would then
    get the same prompt and the model would never see the data.
    """
    fields = config.data_fields
    unknown = [name for name in template.variables if name not in fields]
    if unknown:
        noun = "variable" if len(unknown) == 1 else "variables"
        shown = ", ".join(_unknown(name, fields) for name in unknown)
        raise TemplateError(f"unknown {noun} {shown}; {_reads(fields)}")
    if fields and not template.variables:
        raise TemplateError(
            "the template uses no variable, so every task would get the same prompt; "
            + _reads(fields)
        )


def render_template(template: Template, data: Mapping[str, Any]) -> str:
    """The template with each variable replaced by its value in one task's ``data``.

    Dotted variables read nested objects (``{meta.lang}`` is ``data["meta"]["lang"]``). Strings
    go in as they are and numbers as ``<Text>`` shows them, so span answers quote the text the
    config displays; anything else (true/false, null, lists, objects) goes in as compact JSON.
    A field this task lacks raises TemplateError naming it, which the engine records as a
    failure of that task alone.
    """
    return "".join(
        piece if isinstance(piece, str) else _value_text(piece.name, data)
        for piece in _pieces(template.text)
    )


def _pieces(text: str) -> Iterator[str | _Variable]:
    """The literal runs and variables of ``text`` in order; TemplateError at the first mistake."""
    end = 0
    for match in _TOKEN.finditer(text):
        yield text[end : match.start()]
        yield _piece(text, match)
        end = match.end()
    yield text[end:]


def _piece(text: str, match: re.Match[str]) -> str | _Variable:
    """One brace token: an escaped brace, a variable, or the error that explains it."""
    token = match.group()
    if token in ("{{", "}}"):
        return token[0]
    where = _where(text, match.start())
    inner = match.group(1)
    if inner is None:
        role = "is never closed" if token == "{" else "closes no variable"
        raise TemplateError(f'a single "{token}" at {where} {role}; {_GRAMMAR}')
    if _VARIABLE.fullmatch(inner):
        return _Variable(inner)
    if not inner.strip():
        raise TemplateError(
            f'empty braces "{_shown(token)}" at {where} name no variable; {_GRAMMAR}'
        )
    formatted = _FORMATTED.match(inner)
    if formatted:
        raise TemplateError(
            f'"{_shown(token)}" at {where} uses a conversion or format spec, which templates do '
            f"not support; write {{{formatted.group(1)}}} for the value as it is, or {{{{ and }}}} "
            "for literal braces"
        )
    raise TemplateError(f'"{_shown(token)}" at {where} is not a variable; {_GRAMMAR}')


def _where(text: str, position: int) -> str:
    """A 1-based line and column, the way editors show a position."""
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    return f"line {line}, column {column}"


def _shown(token: str) -> str:
    """A bad placeholder fit for a one-line message: shortened, line breaks written as \\n."""
    if len(token) > _SHOWN:
        token = token[: _SHOWN - 1] + "…"
    return token.replace("\r", "\\r").replace("\n", "\\n")


def _unknown(name: str, fields: Sequence[str]) -> str:
    """An unknown variable, with the field it most likely meant."""
    close = difflib.get_close_matches(name, fields, n=1)
    return f"{{{name}}} (did you mean {{{close[0]}}}?)" if close else f"{{{name}}}"


def _reads(fields: Sequence[str]) -> str:
    """What a template may use instead, for the end of an error message."""
    if not fields:
        return "the config reads no task data field"
    return f"the config reads: {', '.join(fields)}"


def _value_text(name: str, data: Mapping[str, Any]) -> str:
    """The text a variable stands for in one task."""
    value: Any = data
    for key in name.split("."):
        if not isinstance(value, Mapping) or key not in value:
            raise TemplateError(
                f'task data has no "{name}", which the template reads as {{{name}}}'
            )
        value = value[key]
    try:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as error:
        raise TemplateError(f"the value of {{{name}}} cannot be written as text: {error}") from None
