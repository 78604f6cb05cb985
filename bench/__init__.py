"""Benchmarks: each phase measured against what a user would pick instead (see docs/benchmarks.md)."""
