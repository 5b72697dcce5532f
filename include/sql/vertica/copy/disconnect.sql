DISCONNECT {source_database}
