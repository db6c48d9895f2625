INSERT INTO author (name) VALUES ('ann');
INSERT INTO post (author, title) VALUES (1, 'hello');
