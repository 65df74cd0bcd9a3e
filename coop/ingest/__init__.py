"""Files in, one batch out: `ingest_file` detects a file's shape, reads, validates, enriches and loads it atomically."""

from coop.ingest.pipeline import ingest_file

__all__ = ["ingest_file"]
