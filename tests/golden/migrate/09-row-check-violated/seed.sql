INSERT INTO item (low, high) VALUES (1, 2), (5, 3);
