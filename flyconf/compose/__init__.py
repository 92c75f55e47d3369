"""Docker Compose: the same persistence lesson as on Fly, checked the same way.

- ``names``: which files are Compose files and how Compose groups them into projects;
- ``interpolate``: `${VAR:-default}` interpolation and the `.env` / `env_file` format;
- ``project``: the merged project (base file, override, `extends`, `include`), its services, their
  environment and mounts, with positions;
- ``apps``: each service as an :class:`flyconf.app.App` (its Dockerfile, its app configuration, the
  same database discovery as fly.toml), and where each database lives (``placement``);
- ``inspect`` and ``fix``: `flyconf inspect` and `flyconf fix` for Compose.

The rules are in :mod:`flyconf.rules.compose`. Nothing here runs `docker`.
"""
