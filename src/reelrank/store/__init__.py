"""Persistence behind small interfaces chosen by URL: metadata (SQLite or PostgreSQL), data sets (Parquet)."""
