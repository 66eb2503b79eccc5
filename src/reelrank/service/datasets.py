"""Schemas, dataset groups and datasets."""

from __future__ import annotations

import uuid
from typing import Any

from reelrank.errors import (
    InvalidInputException,
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from reelrank.ingest.avro import DATASET_TYPES, check_schema_for_dataset, parse_schema
from reelrank.jobs.kinds import ACTIVATE
from reelrank.service.context import Context, describe, page, require
from reelrank.service.tagging import apply_tags
from reelrank.service.vocabulary import ACTIVE, CREATE_PENDING, RUNNING_STATUSES
from reelrank.store.metadata import Transaction

SCHEMA, DATASET_GROUP, DATASET = "schema", "dataset-group", "dataset"
DATASET_IMPORT_JOB = "dataset-import-job"


def require_active(tx: Transaction, arn: str, kind: str) -> Any:
    resource = require(tx, arn, kind)
    if resource.status != ACTIVE:
        raise ResourceInUseException(f"The resource {arn} is not ACTIVE (status: {resource.status}).")
    return resource


class Datasets:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    # schemas
    def create_schema(self, params: dict[str, Any]) -> dict[str, Any]:
        parse_schema(params["schema"])
        arn = self.ctx.arn(f"schema/{params['name']}")
        body = {"name": params["name"], "schemaArn": arn, "schema": params["schema"]}
        if "domain" in params:
            body["domain"] = params["domain"]
        with self.ctx.transaction() as tx:
            if tx.count_resources(SCHEMA) >= self.ctx.settings.quotas.schemas:
                raise LimitExceededException(f"More than {self.ctx.settings.quotas.schemas} schemas.")
            tx.insert_resource(SCHEMA, arn, params["name"], None, None, body)
        return {"schemaArn": arn}

    def describe_schema(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.describe_one(SCHEMA, params["schemaArn"], "schema")

    def list_schemas(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.list_page(SCHEMA, params, "schemas")

    def delete_schema(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["schemaArn"]
        with self.ctx.transaction() as tx:
            require(tx, arn, SCHEMA)
            users = [d.arn for d in tx.list_resources(DATASET) if d.body["schemaArn"] == arn]
            if users:
                raise ResourceInUseException(f"Schema {arn} is used by the datasets {users}.")
            tx.delete_resource(arn)
        return {}

    # dataset groups
    def create_dataset_group(self, params: dict[str, Any]) -> dict[str, Any]:
        if "roleArn" in params and "kmsKeyArn" not in params:
            raise InvalidInputException("A roleArn is only valid together with a kmsKeyArn.")
        arn = self.ctx.arn(f"dataset-group/{params['name']}")
        body = {"name": params["name"], "datasetGroupArn": arn}
        body.update({key: params[key] for key in ("domain", "roleArn", "kmsKeyArn") if key in params})
        with self.ctx.transaction() as tx:
            limit = self.ctx.settings.quotas.dataset_groups
            if tx.count_resources(DATASET_GROUP) >= limit:
                raise LimitExceededException(f"More than {limit} dataset groups.")
            tx.insert_resource(DATASET_GROUP, arn, params["name"], None, CREATE_PENDING, body)
            apply_tags(tx, arn, params.get("tags"), self.ctx.settings.quotas.tags_per_resource)
            tx.enqueue_job(arn, ACTIVATE, {})
        self.ctx.wake_jobs()
        return {"datasetGroupArn": arn, "domain": params.get("domain")}

    def describe_dataset_group(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.describe_one(DATASET_GROUP, params["datasetGroupArn"], "datasetGroup")

    def list_dataset_groups(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.list_page(DATASET_GROUP, params, "datasetGroups")

    def delete_dataset_group(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["datasetGroupArn"]
        with self.ctx.transaction() as tx:
            require(tx, arn, DATASET_GROUP)
            children = [kind for kind in tx.child_kinds(arn) if not kind.endswith("-job")]
            if children:
                raise ResourceInUseException(
                    f"Dataset group {arn} still has resources of these kinds: {', '.join(sorted(children))}. "
                    "Delete them first.")
            tx.delete_resource(arn)
        return {}

    # datasets
    def create_dataset(self, params: dict[str, Any]) -> dict[str, Any]:
        dataset_type = params["datasetType"].upper()
        if dataset_type not in DATASET_TYPES:
            raise InvalidInputException(
                f"Invalid datasetType {params['datasetType']}; expected one of {', '.join(DATASET_TYPES)}.")
        group_arn = params["datasetGroupArn"]
        with self.ctx.transaction() as tx:
            group = require_active(tx, group_arn, DATASET_GROUP)
            schema = tx.get_resource(params["schemaArn"])
            if schema is None or schema.kind != SCHEMA:
                raise ResourceNotFoundException(f"Could not find resource with ARN {params['schemaArn']}.")
            domain = group.body.get("domain")
            if schema.body.get("domain") != domain:
                raise InvalidInputException(
                    f"Schema {schema.arn} has domain {schema.body.get('domain')} but dataset group "
                    f"{group_arn} has domain {domain}; they must match.")
            check_schema_for_dataset(parse_schema(schema.body["schema"]), dataset_type, domain)
            arn = self.ctx.arn(f"dataset/{group.name}/{dataset_type}")
            body = {"name": params["name"], "datasetArn": arn, "datasetGroupArn": group_arn,
                    "datasetType": dataset_type, "schemaArn": schema.arn}
            if dataset_type == "ACTION_INTERACTIONS":  # its own tracker, for PutActionInteractions
                body["trackingId"] = str(uuid.uuid4())
            tx.insert_resource(DATASET, arn, params["name"], group_arn, CREATE_PENDING, body)
            apply_tags(tx, arn, params.get("tags"), self.ctx.settings.quotas.tags_per_resource)
            tx.enqueue_job(arn, ACTIVATE, {})
        self.ctx.wake_jobs()
        return {"datasetArn": arn}

    def describe_dataset(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.describe_one(DATASET, params["datasetArn"], "dataset")

    def list_datasets(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            if "datasetGroupArn" in params:
                require(tx, params["datasetGroupArn"], DATASET_GROUP)
            rows, token = page(tx, DATASET, params, "datasetGroupArn")
        return {"datasets": [describe(row) for row in rows], "nextToken": token}

    def update_dataset(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["datasetArn"]
        with self.ctx.transaction() as tx:
            dataset = require_active(tx, arn, DATASET)
            schema = require(tx, params["schemaArn"], SCHEMA)
            group = require(tx, dataset.parent_arn or "", DATASET_GROUP)
            check_schema_for_dataset(parse_schema(schema.body["schema"]), dataset.body["datasetType"],
                                     group.body.get("domain"))
            body = dict(dataset.body, schemaArn=schema.arn)
            body["latestDatasetUpdate"] = {"schemaArn": schema.arn, "status": ACTIVE,
                                           "creationDateTime": dataset.updated_at}
            tx.update_resource(arn, body=body)
        return {"datasetArn": arn}

    def delete_dataset(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["datasetArn"]
        with self.ctx.transaction() as tx:
            require(tx, arn, DATASET)
            running = [job.arn for job in tx.list_resources(DATASET_IMPORT_JOB, arn)
                       if job.status in RUNNING_STATUSES]
            if running:
                raise ResourceInUseException(f"Dataset {arn} has import jobs in progress: {running}.")
            tx.drop_dataset_versions(arn, keep_latest=False)
            tx.delete_resource(arn)
        self.ctx.files.remove_unlisted(arn, set())
        return {}
