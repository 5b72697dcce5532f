SELECT MIN(k) AS first_key
FROM (SELECT {key} AS k, NTILE(:parts) OVER (ORDER BY {key}) AS part FROM {table} WHERE {where}) AS tiles
GROUP BY part
ORDER BY first_key
