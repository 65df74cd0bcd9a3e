"""Files in, one batch out: readers per shape, mapping, validation, enrichment, the atomic load."""
