"""emplettes: the regional portal that federates what local shops already publish."""

__version__ = "0.1.0"
