"""CreateFilter, DescribeFilter, ListFilters, DeleteFilter: expressions parsed and checked against the schemas."""

from __future__ import annotations

from typing import Any

from reelrank.errors import InvalidInputException, LimitExceededException
from reelrank.filters import Dataset, parse
from reelrank.ingest.avro import AvroSchema, parse_schema
from reelrank.jobs.kinds import ACTIVATE
from reelrank.service.context import Context, require
from reelrank.service.datasets import DATASET, DATASET_GROUP, require_active
from reelrank.service.tagging import apply_tags
from reelrank.service.vocabulary import CREATE_PENDING
from reelrank.store.metadata import Transaction

FILTER = "filter"
_DATASET_TYPES = {Dataset.ITEMS: "ITEMS", Dataset.CURRENT_ITEM: "ITEMS", Dataset.USERS: "USERS",
                  Dataset.CURRENT_USER: "USERS", Dataset.ACTIONS: "ACTIONS"}


class Filters:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def create_filter(self, params: dict[str, Any]) -> dict[str, Any]:
        expression = parse(params["filterExpression"])
        group_arn = params["datasetGroupArn"]
        arn = self.ctx.arn(f"filter/{params['name']}")
        with self.ctx.transaction() as tx:
            require_active(tx, group_arn, DATASET_GROUP)
            limit = self.ctx.settings.quotas.filters_per_group
            if tx.count_resources(FILTER, group_arn) >= limit:
                raise LimitExceededException(f"A dataset group can have at most {limit} filters.")
            schemas = _schemas(tx, group_arn)
            for dataset, column in sorted(expression.fields):
                _check_field(schemas, dataset, column)
            body = {"name": params["name"], "filterArn": arn, "datasetGroupArn": group_arn,
                    "filterExpression": params["filterExpression"]}
            tx.insert_resource(FILTER, arn, params["name"], group_arn, CREATE_PENDING, body)
            apply_tags(tx, arn, params.get("tags"), self.ctx.settings.quotas.tags_per_resource)
            tx.enqueue_job(arn, ACTIVATE, {})
        self.ctx.wake_jobs()
        return {"filterArn": arn}

    def describe_filter(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.describe_one(FILTER, params["filterArn"], "filter")

    def list_filters(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.ctx.list_page(FILTER, params, "Filters", "datasetGroupArn")

    def delete_filter(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            require(tx, params["filterArn"], FILTER)
            tx.delete_resource(params["filterArn"])
        self.ctx.forget(params["filterArn"])
        return {}


def _schemas(tx: Transaction, group_arn: str) -> dict[str, AvroSchema]:
    schemas = {}
    for dataset in tx.list_resources(DATASET, group_arn):
        schema = tx.get_resource(dataset.body["schemaArn"])
        if schema is not None:
            schemas[dataset.body["datasetType"]] = parse_schema(schema.body["schema"])
    return schemas


def _check_field(schemas: dict[str, AvroSchema], dataset: Dataset, column: str) -> None:
    if dataset.is_interactions:
        return  # only EVENT_TYPE, which the parser already enforces
    dataset_type = _DATASET_TYPES.get(dataset)
    schema = schemas.get(dataset_type or "")
    if schema is None:
        raise InvalidInputException(f"The filter uses {dataset}.{column} but the dataset group has no "
                                    f"{dataset_type} dataset.")
    field = schema.field(column)
    if field is None:
        raise InvalidInputException(f"The filter uses {dataset}.{column}, which is not a column of the "
                                    f"{dataset_type} schema.")
    if field.textual or field.type == "boolean":
        raise InvalidInputException(f"Filters cannot use the {'textual' if field.textual else 'boolean'} field "
                                    f"{dataset}.{column}.")
