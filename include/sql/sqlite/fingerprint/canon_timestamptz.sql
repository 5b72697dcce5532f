ma_canon_timestamptz({col})
