"""Fault-injection tests: broker and database outages, worker loss, concurrent writers."""
