TO_CHAR({col}, 'YYYY-MM-DD')
