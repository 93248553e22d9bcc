"""Notify's HTTP side: the officer API, the console, the probes, and the one map from errors to answers."""
