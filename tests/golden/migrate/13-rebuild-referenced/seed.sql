INSERT INTO author (name, mentor, age) VALUES ('ann', NULL, 40), ('bob', 1, 30);
INSERT INTO post (author, title) VALUES (1, 'one'), (2, 'two');
