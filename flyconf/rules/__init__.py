"""Rule modules. Importing this package registers every rule and check.

Each module declares its rules once (code, name, severity, documentation) and
the checks that emit them. Modules must not import heavy libraries at import
time: ``flyconf rules`` imports all of them.
"""

from flyconf.rules import files, schema  # noqa: F401
