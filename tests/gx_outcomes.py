"""What two validations are compared on: each rule's outcome, not when GX ran it."""

from __future__ import annotations


def outcomes(results: dict) -> dict:
    """Each table's rules' type, success and result (GX's `meta` holds the batch's load
    time, which differs between any two runs)."""
    return {table: [(item["expectation_config"]["type"], item["success"], item["result"])
                    for item in result["results"]] for table, result in results.items()}
