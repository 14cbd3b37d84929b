"""Word lists the scene-graph rules read (see each file header for provenance)."""
