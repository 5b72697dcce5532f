ma_canon_timestamp({col})
