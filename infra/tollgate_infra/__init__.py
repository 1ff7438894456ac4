"""Tollgate's AWS CDK app: stacks and constructs only, no business logic (DESIGN.md section 1)."""
