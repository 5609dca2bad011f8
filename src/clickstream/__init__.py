"""clickstream: user-activity analytics pipeline."""
