ma_canon_number({col})
