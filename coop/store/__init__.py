"""The system of record: the DuckDB file, its schema and migrations, purchase lines, summary, batches."""
