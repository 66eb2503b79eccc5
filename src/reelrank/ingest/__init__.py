"""Getting data in and out: Avro schemas, CSV validation, data locations (local roots and s3://)."""
