SELECT id, name, price, typeof(price), label FROM product ORDER BY id;
INSERT INTO product (name) VALUES ('chair');
SELECT max(id) FROM product;
