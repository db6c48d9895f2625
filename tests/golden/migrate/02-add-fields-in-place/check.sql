SELECT id, name, stock, color, featured, tags FROM product ORDER BY id;
