-- No parallel plans for the rest of this (sub)transaction: a batch of small tables' counts.
SELECT set_config('max_parallel_workers_per_gather', '0', true)
