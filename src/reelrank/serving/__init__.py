"""Serving: deployed models, live user histories (imports + events), scores → top-k."""
