INSERT INTO product (name, note, price, label) VALUES ('lamp', 'old', 12, 'a'), ('desk', NULL, NULL, NULL), ('gone', NULL, 1, 'c');
DELETE FROM product WHERE name = 'gone';
