-- The stage holds one pass's rows, of one schema, in this session only: empty it for the next pass.
DELETE FROM {stage}
