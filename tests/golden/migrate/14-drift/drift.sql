CREATE INDEX by_hand ON product (name);
ALTER TABLE product ADD COLUMN extra TEXT;
