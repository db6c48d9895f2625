SELECT name FROM pragma_table_info('product') ORDER BY cid;
