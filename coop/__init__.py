"""coop: purchasing data, metrics and optimisation for school-food purchasing co-ops."""

__version__ = "0.1.0"
