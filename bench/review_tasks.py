"""The benchmarks' tasks: short product reviews, each with one prediction of model version
``v1`` (its score cycling through 0.00-0.99) and a ground-truth annotation on every third."""

from __future__ import annotations

from typing import Any

SENTIMENT_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
</View>"""


def review_tasks(start: int, count: int) -> list[dict[str, Any]]:
    """Tasks number ``start`` to ``start + count - 1``, in Label Studio's import shape."""
    tasks = []
    for n in range(start, start + count):
        label = "Positive" if n % 2 else "Negative"
        region = {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
        task: dict[str, Any] = {
            "data": {"text": f"review {n}: the product was {'fine' if n % 2 else 'poor'}"},
            "predictions": [{"result": [region], "score": (n % 100) / 100, "model_version": "v1"}],
        }
        if n % 3 == 0:
            task["annotations"] = [{"result": [region], "ground_truth": True}]
        tasks.append(task)
    return tasks
