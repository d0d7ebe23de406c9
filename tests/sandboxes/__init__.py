"""Tests of the sandbox runner: pure ones, and hostile containers against a real engine."""
