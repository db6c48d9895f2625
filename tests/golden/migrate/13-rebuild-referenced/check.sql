SELECT sql FROM sqlite_schema WHERE name = 'post';
PRAGMA foreign_keys = ON;
DELETE FROM author WHERE name = 'ann';
SELECT id, name, mentor FROM author ORDER BY id;
SELECT id, author, title FROM post ORDER BY id;
