"""Submission ingestion: discover → read → validate → load (one transaction per file)."""
