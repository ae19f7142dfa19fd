"""Running a prompt version over tasks: pacing, retries, and (to come) the executor and its
job backends. Knows providers and the store's services, never the CLI, API or web layers.
"""
