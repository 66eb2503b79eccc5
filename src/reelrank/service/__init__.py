"""The Personalize resources, one module per family. Knows nothing of HTTP: plain dicts in and out."""
