"""Faust agents and timers: thin adapters from a stream to a domain service call."""
