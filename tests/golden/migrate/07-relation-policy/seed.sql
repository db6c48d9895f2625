INSERT INTO author (name) VALUES ('ann'), ('bob');
INSERT INTO post (author, title) VALUES (1, 'one'), (2, 'two');
