"""Robo-advice: risk profiles, recommendations, rebalancing, tax-loss harvesting (issue #17)."""
