INSERT INTO post (title, views) VALUES ('hello world', 1), (NULL, 2);
