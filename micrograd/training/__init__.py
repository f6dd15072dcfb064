"""Training: losses (built from `Value` operations), optimizers and schedules, metrics,
callbacks, and the training loop that `Sequential.fit` runs."""
