-- Split points of a key range: the first key (a tuple of the key columns) of each of :parts tiles.
SELECT {keys}
FROM (
    SELECT {keys}, ROW_NUMBER() OVER (PARTITION BY ma_part ORDER BY {keys}) AS ma_rn
    FROM (SELECT {keys}, NTILE(:parts) OVER (ORDER BY {keys}) AS ma_part FROM {table} WHERE {where}) AS tiles
) AS firsts
WHERE ma_rn = 1
ORDER BY {keys}
