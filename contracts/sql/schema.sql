-- The sql workload's database (contracts/sql.md). Loaded by the lab into a database it created.
CREATE TABLE accounts (
    id      int PRIMARY KEY,
    balance bigint NOT NULL,
    name    text NOT NULL
);
CREATE TABLE orders (
    id         bigserial PRIMARY KEY,
    account_id int NOT NULL REFERENCES accounts (id),
    amount     bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_account_id ON orders (account_id);
INSERT INTO accounts (id, balance, name)
SELECT i, 1000000, 'account-' || i FROM generate_series(1, 10000) AS i;
ANALYZE accounts;
ANALYZE orders;
