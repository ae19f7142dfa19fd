"""Running a prompt version over tasks: the executor and what it needs.

``job`` (what a run asks and how hard it may press), ``executor`` (streaming the worklist,
calling the provider, writing batches), ``pacing`` (retries, adaptive concurrency),
``rate_limits`` (requests and tokens per minute), ``cache`` (answers by request digest),
``records`` (predictions and failures, replaced in place), ``worklist`` (leases and pending
tasks) and ``estimates`` (answer sizes from the schema). Knows providers and the store, never
the services, CLI, API or web layers.
"""
