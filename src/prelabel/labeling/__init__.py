"""Label Studio labeling configs: parse them, check task data and results, convert answers.

``parse_label_config`` turns a config's XML into a ``LabelConfig``; from it come the JSON Schema
a model must answer in, the conversion of that answer into Label Studio result JSON and back, and
the checks of task data and stored results. Nothing here touches the database or the network.
"""

from __future__ import annotations

from prelabel.labeling.choices import Choices
from prelabel.labeling.config import Conversion, LabelConfig
from prelabel.labeling.controls import Control, Option
from prelabel.labeling.labels import Labels
from prelabel.labeling.objects import ObjectTag
from prelabel.labeling.parser import MAX_CONFIG_BYTES, parse_label_config
from prelabel.labeling.scalars import Number, Rating, TextArea
from prelabel.labeling.spans import UnlocatedSpan
from prelabel.labeling.taxonomy import Taxonomy

__all__ = [
    "MAX_CONFIG_BYTES",
    "Choices",
    "Control",
    "Conversion",
    "LabelConfig",
    "Labels",
    "Number",
    "ObjectTag",
    "Option",
    "Rating",
    "Taxonomy",
    "TextArea",
    "UnlocatedSpan",
    "parse_label_config",
]
