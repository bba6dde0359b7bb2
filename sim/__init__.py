"""Solana JSON-RPC / PubSub simulator serving recorded and generated pump.fun traffic.

`python -m sim --help` for the CLI; `sim.running(...)` to serve one inside a test.
"""

from sim.app import RunningSim, build_node, running
from sim.config import SimConfig

__all__ = ["RunningSim", "SimConfig", "build_node", "running"]
