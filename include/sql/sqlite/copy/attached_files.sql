-- The databases attached on a connection: (seq, name, file); the file is '' in memory or temporary.
PRAGMA database_list
