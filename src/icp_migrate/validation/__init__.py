"""Great Expectations suites, built in code, for input records and for the account plan."""

from icp_migrate.validation.plan_suite import PlanCheck, validate_plan
from icp_migrate.validation.record_suite import RecordCheck, validate_records

__all__ = ["PlanCheck", "RecordCheck", "validate_plan", "validate_records"]
