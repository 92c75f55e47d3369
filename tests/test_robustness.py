"""Bad input gets findings, never an exception: random bytes, random TOML, random Dockerfiles."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flyconf import lint_text
from flyconf.lint import lint_bytes

TOML_ALPHABET = string.ascii_letters + string.digits + " \t\n=[]{}.,\"'#_-:/"
DOCKER_WORDS = ["FROM", "RUN", "CMD", "ENTRYPOINT", "ENV", "USER", "WORKDIR", "EXPOSE", "COPY", "VOLUME", "ARG",
                "AS", "--from=build", "[", "]", '"', "\\", "<<EOF", "EOF", "\n", " ", "sh", "-c", "node", "&&", "$X",
                "npx prisma migrate deploy", "/data", "8080", "#", "escape=`"]
FLY_WORDS = ["[mounts]", "[[mounts]]", "[processes]", "[[services]]", "[env]", "[http_service]", "[deploy]",
             "source", "destination", "processes", "internal_port", "release_command", "DATABASE_URL", "=", "\n",
             '"/data"', '"file:/data/x.db"', "['app']", "8080", "true", "[[services.ports]]", "port", "'x'", "{", "}"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_as_fly_toml(data: bytes):
    for d in lint_bytes(data, "fly.toml"):
        assert d.line >= 1 and d.column >= 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=TOML_ALPHABET, max_size=200))
def test_random_text_as_fly_toml(text: str):
    for d in lint_text(text, "fly.toml"):
        assert d.line >= 1 and d.column >= 1 and d.code.startswith("FC")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FLY_WORDS), max_size=40))
def test_fly_toml_shaped_noise(words: list[str]):
    for d in lint_text(" ".join(words), "fly.toml"):
        assert d.line >= 1 and d.column >= 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(DOCKER_WORDS), max_size=40))
def test_dockerfile_shaped_noise(words: list[str]):
    for d in lint_text(" ".join(words), "Dockerfile"):
        assert d.line >= 1 and d.column >= 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_as_dockerfile(data: bytes):
    for d in lint_bytes(data, "Dockerfile"):
        assert d.line >= 1 and d.column >= 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(FLY_WORDS), max_size=30), st.lists(st.sampled_from(DOCKER_WORDS), max_size=30))
def test_fly_toml_and_dockerfile_together(tmp_path_factory, fly_words: list[str], docker_words: list[str]):
    from flyconf import lint_paths

    directory = tmp_path_factory.mktemp("app")
    (directory / "fly.toml").write_text(" ".join(fly_words))
    (directory / "Dockerfile").write_text(" ".join(docker_words))
    for d in lint_paths([directory]):
        assert d.line >= 1 and d.column >= 1


FLY_KEYS = ["app", "mounts", "mount", "source", "destination", "processes", "services", "http_service", "ports",
            "port", "internal_port", "handlers", "force_https", "env", "DATABASE_URL", "deploy", "release_command",
            "strategy", "checks", "interval", "timeout", "grace_period", "kill_timeout", "vm", "memory", "build",
            "dockerfile", "min_machines_running", "initial_size", "auto_extend_size_threshold", "tcp_checks",
            "machine_checks", "start_port", "end_port", "concurrency", "statics", "files", "restart", "metrics"]
FLY_VALUES = st.one_of(
    st.sampled_from(["/data", "data", "", "file:/data/a.db", "sqlite:///x.db", "npx prisma migrate deploy",
                     "canary", "10s", "30", "app", "web", "'unclosed", "/", "1gb", "http", "tls"]),
    st.integers(min_value=-5, max_value=70000), st.booleans(), st.floats(allow_nan=False, allow_infinity=False),
)
FLY_DOCS = st.recursive(
    st.dictionaries(st.sampled_from(FLY_KEYS), FLY_VALUES, max_size=5),
    lambda inner: st.dictionaries(st.sampled_from(FLY_KEYS), st.one_of(inner, st.lists(inner, max_size=3),
                                                                       st.lists(FLY_VALUES, max_size=3)), max_size=5),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FLY_DOCS)
def test_well_formed_toml_with_fly_keys_and_odd_values(data):
    import tomli_w

    text = tomli_w.dumps(data)
    for d in lint_text(text, "fly.toml"):
        assert d.line >= 1 and d.column >= 1 and d.code.startswith("FC")
