-- Fix the text form of values for this transaction on both sides of a text-format COPY stream, so
-- servers with different DateStyle / IntervalStyle / float settings read back what was written.
SELECT set_config('datestyle', 'ISO, YMD', true),
       set_config('intervalstyle', 'postgres', true),
       set_config('extra_float_digits', '3', true),
       set_config('bytea_output', 'hex', true)
