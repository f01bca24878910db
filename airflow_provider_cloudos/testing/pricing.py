"""Hourly prices the simulator bills, so cost fields and cost limits behave plausibly.

The figures are round on-demand list prices; only their order of magnitude matters. Unknown
instance types get :data:`DEFAULT_COST_PER_HOUR` rather than an error: the simulator should not
refuse an instance type the real platform would accept.
"""

from __future__ import annotations

DEFAULT_COST_PER_HOUR = 0.25
#: Spot ("cost saving") instances cost about a third of on-demand ones.
COST_SAVING_FACTOR = 0.35

COST_PER_HOUR: dict[str, float] = {
    "t3.medium": 0.0416,
    "c5.large": 0.085,
    "c5.xlarge": 0.17,
    "c5.2xlarge": 0.34,
    "c5.4xlarge": 0.68,
    "m5.large": 0.096,
    "m5.xlarge": 0.192,
    "m5.2xlarge": 0.384,
    "r5.xlarge": 0.252,
    "r5.2xlarge": 0.504,
    "g4dn.xlarge": 0.526,
    "Standard_F1s": 0.0497,
    "Standard_F4s_v2": 0.169,
    "Standard_D4as_v4": 0.192,
}


def cost_per_hour(instance_type: str | None, is_cost_saving: bool = False) -> float:
    """USD per hour for an instance type."""
    price = COST_PER_HOUR.get(instance_type or "", DEFAULT_COST_PER_HOUR)
    return round(price * COST_SAVING_FACTOR, 4) if is_cost_saving else price


__all__ = ["COST_PER_HOUR", "COST_SAVING_FACTOR", "DEFAULT_COST_PER_HOUR", "cost_per_hour"]
