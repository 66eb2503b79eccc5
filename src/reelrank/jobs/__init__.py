"""The durable job queue and its workers: the `jobs` table is the queue, the resource row holds the state."""
