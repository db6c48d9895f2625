INSERT INTO product (name) VALUES ('lamp');
