"""The one error family; the CLI turns each into `error: ...` and exit code 2."""


class HandcalcError(Exception):
    """An error worded for the user: one line, naming the place and what was expected."""


class ConfigError(HandcalcError):
    """The config, or a command-line option overriding it, is invalid."""


class ComputationError(HandcalcError):
    """Rounding or overflow broke the cycle at a named step and entry."""


class OutputError(HandcalcError):
    """An output file cannot be written (it exists, or its folder does not)."""
