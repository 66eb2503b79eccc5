"""PutItems, PutUsers and PutActions: records upserted by ID, visible to training, export and cold start."""

from __future__ import annotations

from typing import Any

import orjson

from reelrank.errors import InvalidInputException
from reelrank.ingest.avro import ID_FIELDS, AvroSchema, Field, camel_case, parse_schema
from reelrank.service.context import Context, require
from reelrank.service.datasets import DATASET, require_active

_JSON_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "int": (int,), "long": (int,), "float": (int, float),
                                            "double": (int, float), "boolean": (bool,)}


class Records:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def put_items(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._put(params["datasetArn"], "ITEMS", "itemId", params["items"])

    def put_users(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._put(params["datasetArn"], "USERS", "userId", params["users"])

    def put_actions(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._put(params["datasetArn"], "ACTIONS", "actionId", params["actions"])

    def _put(self, dataset_arn: str, dataset_type: str, id_member: str,
             entries: list[dict[str, Any]]) -> dict[str, Any]:
        with self.ctx.transaction() as tx:
            dataset = require(tx, dataset_arn, DATASET)
            if dataset.body["datasetType"] != dataset_type:
                raise InvalidInputException(f"{dataset_arn} is a {dataset.body['datasetType']} dataset, not "
                                            f"{dataset_type}.")
            require_active(tx, dataset_arn, DATASET)
            schema_resource = tx.get_resource(dataset.body["schemaArn"])
            assert schema_resource is not None
            schema = parse_schema(schema_resource.body["schema"])
            rows = {entry[id_member]: _fields(schema, ID_FIELDS[dataset_type], entry, id_member, number)
                    for number, entry in enumerate(entries, 1)}
            tx.put_records(dataset_arn, rows)
        group_arn = dataset.body["datasetGroupArn"]
        if dataset_type == "USERS":
            self.ctx.users.refresh(group_arn)
        else:
            self.ctx.catalogs.refresh(group_arn, dataset_type)
        return {}


def _fields(schema: AvroSchema, id_field: str, entry: dict[str, Any], id_member: str, number: int) -> dict[str, Any]:
    where = f"{number}.member.properties"
    properties = orjson.loads(entry.get("properties") or "{}")
    if not isinstance(properties, dict):
        raise InvalidInputException(f"{where} must be a JSON object.")
    columns = {camel_case(field.name): field for field in schema.fields if field.name != id_field}
    fields: dict[str, Any] = {id_field: entry[id_member]}
    for key, value in properties.items():
        field = columns.get(key)
        if field is None:
            expected = ", ".join(sorted(columns)) or "none"
            raise InvalidInputException(f"{where}: {key} is not a column of the schema; expected one of: {expected}.")
        _check(field, value, where)
        fields[field.name] = value
    missing = [camel_case(f.name) for f in schema.fields if not f.nullable and f.name not in fields]
    if missing:
        raise InvalidInputException(f"{where} is missing the required properties {missing}.")
    return fields


def _check(field: Field, value: Any, where: str) -> None:
    if value is None:
        if not field.nullable:
            raise InvalidInputException(f"{where}: {camel_case(field.name)} may not be null.")
        return
    allowed = _JSON_TYPES[field.type]
    if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
        raise InvalidInputException(f"{where}: {camel_case(field.name)} must be a {field.type}.")
