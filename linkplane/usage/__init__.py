"""Data usage of endpoints, as daily records delivered by the provider's mobile core."""
