-- The sql workload's statements (contracts/sql.md), one text per kind of request, the same for
-- every implementation: each is prepared once per database connection and run with its
-- parameters as text or typed values, never rewritten. An implementation reads this file (the C
-- service has it compiled in, the Rust peer includes it, the Go peer's tests compare its copy
-- with it) and tests/integration/test_sql.c checks, from pg_stat_statements, that what reached
-- the database is exactly these statements.
--
-- Every request is one statement, so one round trip and, for an order, one commit: the debit
-- and the insert are one statement (a data-modifying WITH), which PostgreSQL runs as one
-- implicit transaction. An account that does not exist gives no row and writes nothing (404).

-- name: account
-- GET /accounts/{id}: $1 the id.
SELECT balance, name FROM accounts WHERE id = $1;

-- name: accounts
-- GET /accounts?ids=: $1 the ids as an int[] ({1,2,3}); the rows in id order.
SELECT id, balance, name FROM accounts WHERE id = ANY($1::int[]) ORDER BY id;

-- name: order
-- POST /orders: $1 the account, $2 the amount; the order's id and the balance after it.
WITH debit AS (UPDATE accounts SET balance = balance - $2 WHERE id = $1 RETURNING id, balance) INSERT INTO orders (account_id, amount) SELECT id, $2 FROM debit RETURNING id, (SELECT balance FROM debit);
