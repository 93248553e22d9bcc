"""The embedded development stack: broker, Valkey, the three services and a webhook sink.

``make run`` is ``python -m devstack run``; the test suite uses the same pieces to start a
real broker and a real Valkey on free ports.
"""
