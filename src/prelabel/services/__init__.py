"""The operations of prelabel, each written once; the CLI, API, web pages and workers call them.

Every function takes the caller's ``Session`` first and only flushes: the caller owns the
transaction, so an operation that fails part-way leaves nothing behind.
"""
