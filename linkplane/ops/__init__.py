"""Operating linkplane: health and readiness, Prometheus metrics, the settings reference."""
