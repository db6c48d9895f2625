SELECT rowid FROM _sb_fts_post WHERE _sb_fts_post MATCH 'untitled';
INSERT INTO _sb_fts_post (_sb_fts_post) VALUES ('integrity-check');
UPDATE post SET title = 'renamed' WHERE id = 2;
SELECT rowid FROM _sb_fts_post WHERE _sb_fts_post MATCH 'renamed';
