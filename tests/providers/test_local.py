"""The local provider: zero-shot by descriptions, few-shot by ground truth left out for the
task being answered, scores, thresholds, and the controls it refuses."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import pytest

from prelabel.errors import ValidationError
from prelabel.labeling import parse_label_config
from prelabel.providers.base import ChatRequest
from prelabel.providers.embedders import BundledEmbedder, RemoteEmbedder
from prelabel.providers.local import Example, LocalProvider, check_local_controls
from tests.factories import ALL_CONTROLS_CONFIG
from tests.fakes.llm_server import FakeLLMServer

TOPICS = """<View>
  <Text name="text" value="$text"/>
  <Choices name="topic" toName="text">
    <Choice value="Sports" hint="football, matches, goals, athletes and tournaments"/>
    <Choice value="Cooking" hint="recipes, kitchen, baking, ingredients and food"/>
    <Choice value="Finance" hint="stocks, banks, interest rates, markets and money"/>
  </Choices>
</View>"""

POLARITY = """<View>
  <Text name="text" value="$text"/>
  <Choices name="polarity" toName="text">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
</View>"""


def _ask(provider: LocalProvider, text: str, task_id: int | None = None) -> tuple[Any, float]:
    request = ChatRequest(
        messages=({"role": "user", "content": text},), model="m", schema={}, task_id=task_id
    )
    response = asyncio.run(provider.complete(request, timeout=10))
    assert response.score is not None and 0 < response.score <= 1
    return response.parsed, response.score


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("The striker scored twice and the team won the cup final.", "Sports"),
        ("Whisk the eggs with sugar, then bake the cake for forty minutes.", "Cooking"),
        ("The central bank raised interest rates and stock markets fell.", "Finance"),
    ],
    ids=["sports", "cooking", "finance"],
)
def test_zero_shot_picks_the_obvious_label_with_the_bundled_model(text: str, topic: str) -> None:
    provider = LocalProvider(BundledEmbedder(), parse_label_config(TOPICS))

    answer, _ = _ask(provider, f"Article: {text}")

    assert answer == {"topic": topic}


def test_descriptions_written_in_the_prompt_replace_the_option_names() -> None:
    provider = LocalProvider(BundledEmbedder(), parse_label_config(POLARITY))
    prompt = (
        "Positive: the text is about animals and pets\n"
        "Negative: the text is about computers and software\n"
        "Text: {}"
    )
    assert _ask(provider, prompt.format("My cat sleeps all day on the sofa."))[0] == {
        "polarity": "Positive"
    }
    assert _ask(provider, prompt.format("The laptop crashes when I update the drivers."))[0] == {
        "polarity": "Negative"
    }, "the prompt's own definitions are what the options mean"


def test_a_task_own_ground_truth_never_answers_it(fake_llm: FakeLLMServer) -> None:
    embedder = RemoteEmbedder(fake_llm.base_url, None, "fake-embeddings")
    prompt = "Text: violin harbor maple"  # shares no word with either option's name
    # Two tasks with the same text and opposite annotations: each can only be answered by
    # the other's, and would be a tie if its own were counted.
    examples = [
        Example(7, prompt, {"polarity": "Negative"}),
        Example(8, prompt, {"polarity": "Positive"}),
    ]
    provider = LocalProvider(embedder, parse_label_config(POLARITY), examples)

    assert _ask(provider, prompt, task_id=7)[0] == {"polarity": "Positive"}
    assert _ask(provider, prompt, task_id=8)[0] == {"polarity": "Negative"}


def test_multiple_choices_take_every_option_above_the_threshold_learnt_from_ground_truth(
    fake_llm: FakeLLMServer,
) -> None:
    config = parse_label_config(
        """<View><Text name="text" value="$text"/>
        <Choices name="tags" toName="text" choice="multiple">
          <Choice value="red"/><Choice value="green"/><Choice value="blue"/>
        </Choices></View>"""
    )
    examples = [
        Example(1, "red green", {"tags": ["red", "green"]}),
        Example(2, "green blue", {"tags": ["green", "blue"]}),
        Example(3, "blue", {"tags": ["blue"]}),
        Example(4, "red", {"tags": ["red"]}),
    ]
    provider = LocalProvider(RemoteEmbedder(fake_llm.base_url, None, "e"), config, examples)

    answer, _ = _ask(provider, "red blue")

    assert sorted(answer["tags"]) == ["blue", "red"]


def test_controls_the_local_model_cannot_answer_are_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="cannot answer the Labels control 'ner'"):
        check_local_controls(parse_label_config(ALL_CONTROLS_CONFIG))


def test_the_bundled_model_loads_and_embeds_with_no_network() -> None:
    script = (
        "from prelabel.providers.embedders import BundledEmbedder; "
        "print(BundledEmbedder().embed(['offline']).shape)"
    )
    unreachable = "http://127.0.0.1:9"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HTTP_PROXY": unreachable,
        "HTTPS_PROXY": unreachable,
        "ALL_PROXY": unreachable,
        "NO_PROXY": "",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1, 384)"


def test_taxonomy_answers_leaf_paths_and_rating_a_whole_number(fake_llm: FakeLLMServer) -> None:
    config = parse_label_config(
        """<View><Text name="text" value="$text"/>
        <Taxonomy name="place" toName="text">
          <Choice value="Europe"><Choice value="France"/><Choice value="Spain"/></Choice>
          <Choice value="Asia"/>
        </Taxonomy>
        <Rating name="stars" toName="text" maxRating="3"/></View>"""
    )
    provider = LocalProvider(RemoteEmbedder(fake_llm.base_url, None, "e"), config)
    prompt = "1: awful\n2: okay\n3: superb\nText: superb trip to spain spain spain"

    answer, _ = _ask(provider, prompt)

    assert answer == {"place": ["Europe / Spain"], "stars": 3}
