ma_canon_date({col})
