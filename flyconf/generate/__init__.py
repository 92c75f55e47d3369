"""Generators: the start-up wrapper, Dockerfile edits and fixes."""
