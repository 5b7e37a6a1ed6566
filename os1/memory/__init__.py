"""What she remembers: the memory store, extraction, and recall."""
