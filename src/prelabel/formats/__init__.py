"""Label Studio task files: reading tasks from JSON, JSONL, CSV and TSV, writing them back.

Nothing here touches the database: readers turn bytes into task objects, writers turn task
objects into bytes, both streaming so file size never decides memory use.
"""

from prelabel.formats.readers import FORMATS, RawTask, detect_format, read_tasks
from prelabel.formats.tasks import ImportedAnnotation, ImportedPrediction, ImportedTask, parse_task
from prelabel.formats.writers import EXPORT_FORMATS, TaskWriter, open_writer

__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "ImportedAnnotation",
    "ImportedPrediction",
    "ImportedTask",
    "RawTask",
    "TaskWriter",
    "detect_format",
    "open_writer",
    "parse_task",
    "read_tasks",
]
