INSERT INTO ticket (state, prio) VALUES ('pending', 5);
SELECT id, state, prio FROM ticket ORDER BY id;
