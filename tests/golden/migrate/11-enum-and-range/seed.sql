INSERT INTO ticket (state, prio) VALUES ('open', 1), ('closed', 3);
