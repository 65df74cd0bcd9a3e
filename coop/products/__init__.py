"""What an item is: classification (commodity, category, unprocessed) and units."""
