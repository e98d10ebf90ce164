"""Assets derived from the datasets, read point-in-time through the warehouse IO manager."""
