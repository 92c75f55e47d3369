"""Rule modules. Importing this package registers every rule and check.

Each module declares its rules once (code, name, severity, documentation) and
the checks that emit them. Modules must not import heavy libraries at import
time: ``flyconf rules`` imports all of them.

Code families: FC0xx files, FC1xx schema, FC2xx volumes and mounts, FC3xx process
groups and commands, FC4xx SQLite (FC41x: Docker Compose), FC5xx services, checks and durations, FC6xx
secrets, FC7xx Dockerfiles, FC8xx start scripts, FC9xx suppressions.
"""

from flyconf import suppress  # noqa: F401  (declares invalid-suppression)
from flyconf.rules import (  # noqa: F401
    compose,
    dockerfile,
    files,
    machines,
    mounts,
    processes,
    schema,
    scripts,
    secrets,
    services,
    sqlite,
)
