"""Generated scenarios (pure): the `lifecycle` pump.fun economy."""

from sim.scenario.lifecycle import lifecycle_feed

__all__ = ["lifecycle_feed"]
