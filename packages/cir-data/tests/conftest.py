"""Shared fixtures for the cir-data tests."""
