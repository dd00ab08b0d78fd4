"""emnify's published API descriptions as a contract: loading them, matching linkplane's
routes to their operations, the description defects tolerated, and the coverage table."""
