INSERT INTO product (name, category, sku) VALUES ('lamp', 'home', 'L1'), ('desk', 'home', 'D1');
