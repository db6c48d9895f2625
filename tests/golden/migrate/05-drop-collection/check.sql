SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite%' AND name NOT LIKE '\_sb\_%' ESCAPE '\' ORDER BY name;
SELECT count(*) FROM sqlite_schema WHERE name LIKE '\_sb\_fts%' ESCAPE '\';
