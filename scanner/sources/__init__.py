"""Sources yield texts with provenance; they never decide what is a secret."""
