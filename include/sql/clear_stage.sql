DELETE FROM {stage} WHERE refresh_id = :refresh_id
