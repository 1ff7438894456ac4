"""Tollgate's AWS CDK app: stacks and constructs only, no business logic (that lives in shared/tollgate)."""
