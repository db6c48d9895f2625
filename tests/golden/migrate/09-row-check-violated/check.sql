SELECT id, low, high FROM item ORDER BY id;
