-- A schema's audit rows; {audit_columns} is filled from records.AuditRow's fields.
SELECT {audit_columns}
FROM {audit}
WHERE table_schema = :schema
