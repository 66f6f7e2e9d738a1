"""The example connector: a small local shop API used by the tutorial, the demo and the engine's tests."""
