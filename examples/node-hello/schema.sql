-- The tour's sample table: `palisade sync` copies it to staging with the e-mails replaced (fake-email).
CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200) NOT NULL);
INSERT INTO users VALUES (1, 'Ann Example', 'ann@example.com'), (2, 'Bob Example', 'bob@example.com');
