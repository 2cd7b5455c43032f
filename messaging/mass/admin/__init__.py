"""Admin for mass sends (群发): compose, preview, confirm with audience and quota, schedule, cancel, results."""

from . import message  # noqa: F401  registers MassMessageAdmin
