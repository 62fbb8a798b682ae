"""Database infrastructure every domain shares: the lowest layer, importing no domain."""
