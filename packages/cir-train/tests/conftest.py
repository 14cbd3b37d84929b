"""Shared fixtures for the cir-train tests."""
