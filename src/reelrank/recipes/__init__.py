"""Recommendation algorithms behind one contract (`base.Model`), and which algorithm serves which recipe."""
