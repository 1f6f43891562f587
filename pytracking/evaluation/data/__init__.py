"""Package data: benchmark sequence tables and attribute lists (JSON), read by the dataset readers."""
