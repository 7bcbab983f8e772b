"""Fleet doctor: many machines' facts compared, from torchrun ranks or a folder of facts files."""

from rigcheck.fleet.compare import FleetFinding, NodeFacts, compare

__all__ = ["FleetFinding", "NodeFacts", "compare"]
