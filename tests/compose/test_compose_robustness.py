"""Bad Compose input gets findings, never an exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flyconf import lint_text
from flyconf.lint import lint_bytes

WORDS = ["services:", "volumes:", "  web:", "    image: app", "    build: .", "    environment:", "      - A=${B:-/x}",
         "      DB_PATH: /data/a.db", "    volumes:", "      - data:/data", "      - /anon", "      - ./d:/d:ro",
         "      - type: volume", "        source: v", "        target: /t", "    tmpfs: /data", "    read_only: true",
         "  data:", "    external: true", "    extends: web", "    <<: *a", "x-a: &a", "  k: v", "!reset", "!override",
         "[", "]", "{", "}", "- ", ": ", "\t", "${", "$$", "'", '"', "---", "\n", "    env_file: .env", "include:",
         "  - other.yml"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(WORDS), max_size=40), st.sampled_from(["\n", " ", ""]))
def test_compose_shaped_noise(words: list[str], sep: str):
    for d in lint_text((sep or "\n").join(words) + "\n", "compose.yaml"):
        assert d.line >= 1 and d.column >= 1 and d.code.startswith("FC")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_as_compose(data: bytes):
    for d in lint_bytes(data, "docker-compose.yml"):
        assert d.line >= 1 and d.column >= 1
