"""REST API of the admission block (same services and gate as the pages)."""
