CASE WHEN {col} IS NULL THEN NULL WHEN {col} = 0 THEN '0'
     ELSE CASE WHEN CAST(ROUND(CAST({col} AS NUMERIC), :fp_float_digits - 1 - CAST(FLOOR(LOG(ABS({col}))) AS INTEGER)) AS VARCHAR(80)) LIKE '%.%'
               THEN RTRIM(RTRIM(CAST(ROUND(CAST({col} AS NUMERIC), :fp_float_digits - 1 - CAST(FLOOR(LOG(ABS({col}))) AS INTEGER)) AS VARCHAR(80)), '0'), '.')
               ELSE CAST(ROUND(CAST({col} AS NUMERIC), :fp_float_digits - 1 - CAST(FLOOR(LOG(ABS({col}))) AS INTEGER)) AS VARCHAR(80)) END
END
