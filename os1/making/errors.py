"""What can go wrong when she makes something, each with a message he can act on."""

from __future__ import annotations

from os1.errors import ConfigError, InputError, OS1Error


class MakingError(OS1Error):
    """She could not make it: nothing half-made is kept."""


class RendererMissing(ConfigError):
    """A tool that turns her score or drawing into sound or a picture is not installed:
    the message names the Debian package that has it."""


class HostileSvg(InputError):
    """SVG that must never be rendered (a script, an outside reference, an entity, a
    foreign object, absurd dimensions): rejected before any renderer sees it."""


class RenderTimeout(MakingError):
    """Rendering ran over its time budget and was stopped."""


class NotWritable(MakingError):
    """After every retry and repair, what the model wrote would not pass the checks."""
