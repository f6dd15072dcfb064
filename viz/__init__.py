"""Draw and explain micrograd graphs (see the visualizer issue: this package is filled in there)."""
