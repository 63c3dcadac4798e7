"""Pure detection: bytes in, matches out. No I/O, no environment, no git."""
