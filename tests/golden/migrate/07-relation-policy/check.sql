PRAGMA foreign_keys = ON;
DELETE FROM author WHERE name = 'ann';
SELECT id, author, title FROM post ORDER BY id;
