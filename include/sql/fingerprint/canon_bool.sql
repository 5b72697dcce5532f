CASE WHEN {col} IS NULL THEN NULL WHEN {col} THEN 'true' ELSE 'false' END
