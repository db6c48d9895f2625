INSERT INTO post (title, body) VALUES ('hello', 'the quick brown fox'), ('bye', 'lazy dog');
