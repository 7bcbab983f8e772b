"""Fleet doctor: many machines' facts compared, from torchrun ranks or a folder of facts files."""

from rigcheck.fleet.compare import NodeFacts, compare

__all__ = ["NodeFacts", "compare"]
