-- The source schema's database file, attached on the target's connection inside its write transaction
-- (SQLite allows ATTACH there; DETACH only after the transaction ends).
ATTACH DATABASE :path AS {alias}
