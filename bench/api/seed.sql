-- The rows of bench/api.sh, run by the sqlite3 CLI on the database that
-- specbase created from product.spec (the STRICT table and its CHECKs):
--   sqlite3 DB ".parameter set @rows 100000" ".read bench/api/seed.sql"
-- Deterministic: row i has the same values on every run. 50 categories,
-- category-00 .. category-49, so a category holds @rows / 50 rows.
-- Decimals are canonical text with two places; timestamps are specbase's
-- stored form (UTC, microseconds); bools are 0/1.
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @rows)
INSERT INTO product (id, name, description, price, stock, category, sku, active,
                     created_at, updated_at)
SELECT i,
       'Product ' || i,
       'A sturdy product, number ' || i || ', for the benchmark table.',
       printf('%d.%02d', ((i * 7919) % 99900 + 100) / 100, ((i * 7919) % 99900 + 100) % 100),
       (i * 31) % 500,
       printf('category-%02d', i % 50),
       printf('SKU-%06d', i),
       (i % 10) != 0,
       strftime('%Y-%m-%dT%H:%M:%S', 1735689600 + i, 'unixepoch') || '.000000Z',
       strftime('%Y-%m-%dT%H:%M:%S', 1735689600 + i, 'unixepoch') || '.000000Z'
FROM n;
COMMIT;
