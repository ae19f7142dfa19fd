"""The public surface of ``prelabel.labeling``, pinned so that changing it is a decision."""

from __future__ import annotations

import pickle

import prelabel.labeling
from prelabel.labeling import LabelConfig


def test_public_api_is_exactly_the_documented_names() -> None:
    assert prelabel.labeling.__all__ == [
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
    for name in prelabel.labeling.__all__:
        assert hasattr(prelabel.labeling, name), name


def test_parsed_config_pickles_so_job_workers_can_receive_it(example: LabelConfig) -> None:
    example.answer_schema()  # fills the controls' cached lookups, which must pickle too
    assert pickle.loads(pickle.dumps(example)) == example
