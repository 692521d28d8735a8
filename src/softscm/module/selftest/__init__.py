"""Self tests: known-answer tests, entropy health tests, integrity checks, reports, fault injection."""
