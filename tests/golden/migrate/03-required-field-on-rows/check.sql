SELECT id, name FROM product ORDER BY id;
