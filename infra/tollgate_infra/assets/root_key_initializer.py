# Inline Lambda source (CloudFormation ZipFile): keep it dependency-free and short. `cfnresponse` is provided
# by CloudFormation for inline Python code.
import secrets
import string
from typing import Any

import boto3
import cfnresponse

LOWER_ALNUM = string.ascii_lowercase + string.digits
ALNUM = string.ascii_letters + string.digits


def new_root_key() -> str:
    public_id = "".join(secrets.choice(LOWER_ALNUM) for _ in range(12))
    secret = "".join(secrets.choice(ALNUM) for _ in range(32))
    return f"tg_{public_id}_{secret}"


def handler(event: dict[str, Any], context: Any) -> None:
    arn = event["ResourceProperties"]["SecretArn"]
    old_arn = event.get("OldResourceProperties", {}).get("SecretArn")
    try:
        # Only a new secret gets a value: updates and deletes leave the existing root key alone.
        if event["RequestType"] == "Create" or (event["RequestType"] == "Update" and old_arn != arn):
            boto3.client("secretsmanager").put_secret_value(SecretId=arn, SecretString=new_root_key())
        cfnresponse.send(event, context, cfnresponse.SUCCESS, {}, physicalResourceId=arn)
    except Exception as error:  # report the failure to CloudFormation instead of letting it time out
        cfnresponse.send(event, context, cfnresponse.FAILED, {}, physicalResourceId=arn, reason=str(error)[:200])
