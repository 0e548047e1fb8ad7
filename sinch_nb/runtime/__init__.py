"""The in-kernel runtime: registry, ASGI app, server thread, dev context.

Submodules load on use so that ``import sinch_nb`` stays fast.
"""
