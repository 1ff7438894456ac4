"""AWS-backed implementations (boto3). Only ``tollgate.wiring`` imports from here."""
