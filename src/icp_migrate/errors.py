"""The exceptions the CLI turns into one line and an exit code."""

from __future__ import annotations


class IcpMigrateError(Exception):
    """Base of every error the tool reports without a traceback."""

    exit_code = 1


class UsageError(IcpMigrateError):
    """The command line or a setting is wrong."""

    exit_code = 2


class MappingError(IcpMigrateError):
    """A mapping file is malformed or names a field the source lacks."""

    exit_code = 2


class SourceError(IcpMigrateError):
    """A legacy source cannot be read at all (missing, empty, unknown layout, unreachable)."""

    exit_code = 1


class TargetError(IcpMigrateError):
    """The target store cannot be reached or written."""

    exit_code = 1


class PlanValidationError(IcpMigrateError):
    """A plan-level expectation failed: nothing was loaded."""

    exit_code = 1
