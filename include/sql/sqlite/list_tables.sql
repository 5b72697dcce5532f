SELECT name
FROM pragma_table_list
WHERE schema = :schema AND type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'
ORDER BY name
