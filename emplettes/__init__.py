"""emplettes: the regional portal that federates what local shops already publish."""

from config import VERSION as __version__

__all__ = ["__version__"]
