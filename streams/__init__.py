"""Kafka streams: the one Faust app, every topic declared once, versioned records, producers."""
