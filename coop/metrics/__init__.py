"""Local share, premiums, route mix and collective spend (Polars), with locality and geography."""
