// Placeholder translation unit for a layer that has only headers so far.
