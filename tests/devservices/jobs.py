"""Jobs the harness tests enqueue; a real rq worker imports and runs them."""


def multiply(a, b):
    return a * b
