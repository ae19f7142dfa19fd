"""From a prompt version and a task to the messages sent, and from a model's answer back to a
Label Studio result. Pure functions of the labeling config, the template and the task data:
no database, no network.
"""
