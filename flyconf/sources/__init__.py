"""Readers that turn files into documents with source positions."""
