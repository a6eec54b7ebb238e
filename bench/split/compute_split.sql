-- pgbench script: the plan of a 50-line order (bench/split/setup.sql).
SELECT count(*) FROM backorder.compute_split('bench', 'B1');
