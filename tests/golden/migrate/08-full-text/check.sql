SELECT rowid FROM _sb_fts_post WHERE _sb_fts_post MATCH 'fox';
INSERT INTO post (title, body) VALUES ('new', 'another fox');
SELECT rowid FROM _sb_fts_post WHERE _sb_fts_post MATCH 'fox' ORDER BY rowid;
