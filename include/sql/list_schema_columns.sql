-- Every column of every table of one schema, in one catalog read (schema drift, row filters).
-- Columns: table_name, column_name, data_type, char_length, num_precision, num_scale, nullable.
SELECT c.table_name, c.column_name, c.data_type, c.character_maximum_length AS char_length,
       c.numeric_precision AS num_precision, c.numeric_scale AS num_scale, c.is_nullable AS nullable
FROM information_schema.columns AS c
JOIN information_schema.tables AS t
  ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
WHERE c.table_schema = :schema
ORDER BY c.table_name, c.ordinal_position
