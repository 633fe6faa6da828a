"""The audit log's tamper-proof copy: every audit record also goes to an S3 bucket no function can overwrite.

DynamoDB's IAM cannot tell a conditional PutItem from an unconditional one, so a function's role that may append
an audit item may also replace one. S3 can: the functions' role may only `s3:PutObject` with an `If-None-Match`
header (`s3:if-none-match`, serverless.yml), so an existing record can never be written over; the bucket also has
Object Lock in compliance mode, so no version can be deleted before its retention ends, by anyone. The table's
copy is what `auditLog` pages through; the bucket's is the evidence.

Each record is one object, `<brandId>/<sort key>.json`, written before the table's copy: a record that cannot be
archived is not written at all, and the mutation it records does not run (api/audit.py).
"""

from __future__ import annotations

import json
from typing import Any

from infra import keys
from rules.audit import AuditRecord


class AuditArchive:
    def __init__(self, bucket: str, client: Any = None) -> None:
        import boto3

        self.bucket = bucket
        self.client = client or boto3.client("s3")

    @staticmethod
    def key(record: AuditRecord) -> str:
        return f"{record.brand_id}/{keys.audit_sk(record.at, record.audit_id)}.json"

    def put(self, record: AuditRecord) -> None:
        body = json.dumps({"id": record.audit_id, "brandId": record.brand_id, "staffId": record.staff_id,
                           "mutation": record.mutation, "arguments": dict(record.arguments),
                           "at": record.at.isoformat(), "outcome": record.outcome, "detail": record.detail},
                          ensure_ascii=False, sort_keys=True)
        # If-None-Match: * makes S3 refuse (412) a key that exists; the role allows no other PutObject.
        self.client.put_object(Bucket=self.bucket, Key=self.key(record), Body=body.encode("utf-8"),
                               ContentType="application/json", IfNoneMatch="*")
