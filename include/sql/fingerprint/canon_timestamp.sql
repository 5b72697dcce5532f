SUBSTR(TO_CHAR({col}, 'YYYY-MM-DD HH24:MI:SS.US'), 1, :fp_ts_len)
