"""Offline evaluation: Personalize's metrics and split, and the papers' protocols (full ranking, sampled negatives)."""
