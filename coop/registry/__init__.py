"""Who and what the co-op knows: districts, vendors, meal counts, contracts."""
