"""Per-feature route declarations for tests/api_harness.py (one module per feature)."""
