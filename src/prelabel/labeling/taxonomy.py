"""The ``<Taxonomy>`` control: a tree of nested ``<Choice>`` options, answered with paths.

A stored result names each selection as the list of node labels from the root down
(``[["A", "A1"], ["B"]]``). A model answers with the same paths joined into one string by the
control's ``pathSeparator`` (``"A / A1"``), because a flat enum of strings is what every
structured-output mode can constrain. The joined strings must therefore be unambiguous; a
config whose labels contain the separator so that two paths read alike is refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Self
from xml.etree.ElementTree import Element

from prelabel.errors import LabelConfigError
from prelabel.labeling.controls import (
    Control,
    Found,
    InvalidValue,
    Option,
    describe_options,
    read_options,
    require,
)
from prelabel.labeling.objects import json_type
from prelabel.labeling.spans import UnlocatedSpan

__all__ = ["Taxonomy"]


@dataclass(frozen=True)
class Taxonomy(Control):
    """``<Taxonomy>``: any number of paths; only leaf paths when ``leafsOnly="true"``."""

    tag: ClassVar[str] = "Taxonomy"

    options: tuple[Option, ...] = ()
    separator: str = " / "
    leafs_only: bool = False

    @classmethod
    def from_element(cls, element: Element, name: str, to_name: tuple[str, ...]) -> Self:
        where = f'<Taxonomy name="{name}">'
        options = read_options(element, "Choice", where, nested=True)
        if not options:
            raise LabelConfigError(f"{where} has no <Choice> options")
        taxonomy = cls(
            name=name,
            to_name=to_name,
            options=options,
            separator=element.get("pathSeparator", " / "),
            leafs_only=element.get("leafsOnly") == "true",
        )
        seen: dict[str, tuple[Option, ...]] = {}
        for joined, nodes in taxonomy._answer_nodes():
            if joined in seen:
                raise LabelConfigError(
                    f"{where}: paths {list(_labels(seen[joined]))} and {list(_labels(nodes))} "
                    f'both read "{joined}" with pathSeparator="{taxonomy.separator}"; '
                    "choose a separator that no label contains"
                )
            seen[joined] = nodes
        return taxonomy

    @property
    def empty_answer(self) -> object:
        return []

    @cached_property
    def paths(self) -> dict[str, tuple[str, ...]]:
        """Every path an answer may name, joined -> node labels, in tree order."""
        return {joined: _labels(nodes) for joined, nodes in self._answer_nodes()}

    def schema(self) -> dict[str, Any]:
        summary = (
            f"Every category that applies, as its path from the root joined by "
            f'"{self.separator}"; an empty list when none does.'
        )
        pairs = [(joined, nodes[-1]) for joined, nodes in self._answer_nodes()]
        return {
            "type": "array",
            "items": {"type": "string", "enum": list(self.paths)},
            "description": describe_options(summary, pairs),
        }

    def to_regions(
        self, answer: object, to_name: str, document: str | None
    ) -> tuple[list[dict[str, Any]], list[UnlocatedSpan]]:
        if not isinstance(answer, list):
            raise InvalidValue(f"expected a list of paths, got {json_type(answer)}")
        paths = []
        for item in answer:
            if not isinstance(item, str) or item not in self.paths:
                raise InvalidValue(f"{item!r} is not a path of the taxonomy")
            paths.append(self.paths[item])
        unique = [list(path) for path in dict.fromkeys(paths)]
        return ([self.region(to_name, {"taxonomy": unique})] if unique else []), []

    def check_value(self, value: Mapping[str, Any], document: str | None) -> None:
        paths = require(value, "taxonomy")
        if not isinstance(paths, list):
            raise InvalidValue(f"taxonomy must be a list of paths, got {json_type(paths)}")
        for path in paths:
            self._follow(path)

    def from_values(self, found: Sequence[Found]) -> object:
        joined = (
            self.separator.join(_labels(self._follow(path)))
            for value, _ in found
            for path in value["taxonomy"]
        )
        return list(dict.fromkeys(joined))

    def _follow(self, path: object) -> tuple[Option, ...]:
        """The options a stored path walks through; each node may be a label or a value."""
        if not isinstance(path, list) or not path:
            raise InvalidValue(f"a taxonomy path must be a non-empty list, got {path!r}")
        nodes: list[Option] = []
        parent: tuple[str, ...] = ()
        for node in path:
            match = self._levels[parent].get(node) if isinstance(node, str) else None
            if match is None:
                parent = f"under {nodes[-1].label!r}" if nodes else "at the top level"
                raise InvalidValue(
                    f"path {path!r} does not follow the taxonomy: {node!r} is not {parent}"
                )
            nodes.append(match)
            parent += (match.label,)
        if self.leafs_only and nodes[-1].children:
            raise InvalidValue(f"path {path!r} ends at {nodes[-1].label!r}, which is not a leaf")
        return tuple(nodes)

    @cached_property
    def _levels(self) -> dict[tuple[str, ...], dict[str, Option]]:
        """Label path of a node -> the names (value or alias) of its children -> the child.

        Stored paths may name a node by value or by alias; labels win where they clash.
        """
        levels: dict[tuple[str, ...], dict[str, Option]] = {}
        pending: list[tuple[tuple[str, ...], tuple[Option, ...]]] = [((), self.options)]
        while pending:
            path, children = pending.pop()
            names = {child.value: child for child in children}
            levels[path] = names | {child.label: child for child in children}
            pending.extend((path + (child.label,), child.children) for child in children)
        return levels

    def _answer_nodes(self) -> Iterator[tuple[str, tuple[Option, ...]]]:
        """Each answerable path, joined and as options: every node, or leaves with leafsOnly."""
        pending = [(option,) for option in reversed(self.options)]
        while pending:
            nodes = pending.pop()
            if not (self.leafs_only and nodes[-1].children):
                yield self.separator.join(_labels(nodes)), nodes
            pending.extend(nodes + (child,) for child in reversed(nodes[-1].children))


def _labels(nodes: tuple[Option, ...]) -> tuple[str, ...]:
    return tuple(node.label for node in nodes)
