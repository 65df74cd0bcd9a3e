"""Procurement rules: thresholds, split purchases, geographic-preference bids, contracts."""
