-- Demo data for the SOURCE cluster (vertica-source), run by the `vertica-seed` service.
--
-- Safe to run again: objects are created only when missing and each table is filled only while
-- it is empty, so re-running `docker compose up` neither duplicates rows nor undoes changes you
-- made on purpose (delete rows, add a table, ...) to watch the audit react.
--
-- vsql runs with AUTOCOMMIT off: DDL commits by itself, the INSERTs are committed at the end.
-- Every CREATE TABLE here has a twin in seed_target.sql (tests/compose checks they match).

CREATE SCHEMA IF NOT EXISTS sales;
CREATE SCHEMA IF NOT EXISTS hr;
CREATE SCHEMA IF NOT EXISTS "Finance Dept";

CREATE TABLE IF NOT EXISTS sales.customers (
    customer_id  INT          NOT NULL,
    name         VARCHAR(100) NOT NULL,
    country      CHAR(2)      NOT NULL,
    created_at   TIMESTAMP    NOT NULL,
    PRIMARY KEY (customer_id)
);

CREATE TABLE IF NOT EXISTS sales.orders (
    order_id     INT           NOT NULL,
    customer_id  INT           NOT NULL,
    order_date   DATE          NOT NULL,
    amount       NUMERIC(12,2) NOT NULL,
    status       VARCHAR(20)   NOT NULL,
    PRIMARY KEY (order_id)
);

CREATE TABLE IF NOT EXISTS sales.order_items (
    order_id     INT           NOT NULL,
    line_no      INT           NOT NULL,
    product_code VARCHAR(20)   NOT NULL,
    quantity     INT           NOT NULL,
    unit_price   NUMERIC(12,2) NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE IF NOT EXISTS hr.departments (
    department_id INT          NOT NULL,
    name          VARCHAR(100) NOT NULL,
    PRIMARY KEY (department_id)
);

CREATE TABLE IF NOT EXISTS hr.employees (
    employee_id   INT           NOT NULL,
    department_id INT           NOT NULL,
    full_name     VARCHAR(100)  NOT NULL,
    email         VARCHAR(200)  NOT NULL,
    hire_date     DATE          NOT NULL,
    salary        NUMERIC(10,2) NOT NULL,
    PRIMARY KEY (employee_id)
);

-- A schema and table whose names need quoting (dags/migration_audit.yaml audits "Finance Dept").
CREATE TABLE IF NOT EXISTS "Finance Dept"."Ledger Entries" (
    entry_id     INT           NOT NULL,
    booked_on    DATE          NOT NULL,
    account      VARCHAR(20)   NOT NULL,
    amount       NUMERIC(12,2) NOT NULL,
    PRIMARY KEY (entry_id)
);

INSERT INTO sales.customers (customer_id, name, country, created_at)
SELECT v.customer_id, v.name, v.country, v.created_at
FROM (
    SELECT 1 AS customer_id, 'Ada Lovelace' AS name, 'GB' AS country,
           TIMESTAMP '2024-01-01 09:00:00' AS created_at
    UNION ALL SELECT 2, 'Grace Hopper',   'US', TIMESTAMP '2024-01-01 10:30:00'
    UNION ALL SELECT 3, 'Edsger Dijkstra','NL', TIMESTAMP '2024-01-02 08:15:00'
    UNION ALL SELECT 4, 'Barbara Liskov', 'US', TIMESTAMP '2024-01-03 14:45:00'
    UNION ALL SELECT 5, 'Niklaus Wirth',  'CH', TIMESTAMP '2024-01-04 11:00:00'
) AS v
WHERE NOT EXISTS (SELECT 1 FROM sales.customers);

INSERT INTO sales.orders (order_id, customer_id, order_date, amount, status)
SELECT v.order_id, v.customer_id, v.order_date, v.amount, v.status
FROM (
    SELECT 1001 AS order_id, 1 AS customer_id, DATE '2024-01-02' AS order_date,
           CAST(120.50 AS NUMERIC(12,2)) AS amount, 'shipped' AS status
    UNION ALL SELECT 1002, 2, DATE '2024-01-02',  75.00, 'shipped'
    UNION ALL SELECT 1003, 3, DATE '2024-01-03', 310.25, 'shipped'
    UNION ALL SELECT 1004, 1, DATE '2024-01-04',  18.99, 'cancelled'
    UNION ALL SELECT 1005, 4, DATE '2024-01-04', 560.00, 'open'
    UNION ALL SELECT 1006, 5, DATE '2024-01-05',  42.09, 'open'
) AS v
WHERE NOT EXISTS (SELECT 1 FROM sales.orders);

INSERT INTO sales.order_items (order_id, line_no, product_code, quantity, unit_price)
SELECT v.order_id, v.line_no, v.product_code, v.quantity, v.unit_price
FROM (
    SELECT 1001 AS order_id, 1 AS line_no, 'KB-101' AS product_code, 1 AS quantity,
           CAST(100.50 AS NUMERIC(12,2)) AS unit_price
    UNION ALL SELECT 1001, 2, 'MS-200', 2,  10.00
    UNION ALL SELECT 1002, 1, 'HD-500', 1,  75.00
    UNION ALL SELECT 1003, 1, 'MN-270', 1, 290.25
    UNION ALL SELECT 1003, 2, 'CB-010', 4,   5.00
    UNION ALL SELECT 1004, 1, 'PD-001', 1,  18.99
    UNION ALL SELECT 1005, 1, 'LP-900', 1, 560.00
    UNION ALL SELECT 1006, 1, 'MS-200', 3,  14.03
) AS v
WHERE NOT EXISTS (SELECT 1 FROM sales.order_items);

INSERT INTO hr.departments (department_id, name)
SELECT v.department_id, v.name
FROM (
    SELECT 10 AS department_id, 'Engineering' AS name
    UNION ALL SELECT 20, 'Finance'
    UNION ALL SELECT 30, 'People'
) AS v
WHERE NOT EXISTS (SELECT 1 FROM hr.departments);

INSERT INTO hr.employees (employee_id, department_id, full_name, email, hire_date, salary)
SELECT v.employee_id, v.department_id, v.full_name, v.email, v.hire_date, v.salary
FROM (
    SELECT 1 AS employee_id, 10 AS department_id, 'Alan Turing' AS full_name,
           'alan.turing@example.com' AS email, DATE '2020-03-01' AS hire_date,
           CAST(98000.00 AS NUMERIC(10,2)) AS salary
    UNION ALL SELECT 2, 10, 'Margaret Hamilton', 'margaret.hamilton@example.com', DATE '2019-07-15', 105000.00
    UNION ALL SELECT 3, 20, 'Luca Pacioli',      'luca.pacioli@example.com',      DATE '2021-01-11',  72000.00
    UNION ALL SELECT 4, 30, 'Mary Parker',       'mary.parker@example.com',       DATE '2022-09-05',  64000.00
) AS v
WHERE NOT EXISTS (SELECT 1 FROM hr.employees);

INSERT INTO "Finance Dept"."Ledger Entries" (entry_id, booked_on, account, amount)
SELECT v.entry_id, v.booked_on, v.account, v.amount
FROM (
    SELECT 1 AS entry_id, DATE '2024-01-02' AS booked_on, '4000-SALES' AS account,
           CAST(195.50 AS NUMERIC(12,2)) AS amount
    UNION ALL SELECT 2, DATE '2024-01-03', '4000-SALES', 310.25
    UNION ALL SELECT 3, DATE '2024-01-04', '4900-REFUNDS', -18.99
) AS v
WHERE NOT EXISTS (SELECT 1 FROM "Finance Dept"."Ledger Entries");

COMMIT;
