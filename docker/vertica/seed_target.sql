-- Empty twins of the demo tables for the TARGET cluster (vertica-target), run by `vertica-seed`.
--
-- In the real migration the DDL is migrated before the data, so the target starts with every
-- table present and empty; the audit then copies and checks the rows. The table definitions
-- below must stay identical to those in seed_source.sql (tests/compose checks the table list).
--
-- Safe to run again: nothing here drops or truncates, so migrated rows survive a re-run.

-- Schema of the audit store (the provider also creates it if missing).
CREATE SCHEMA IF NOT EXISTS migration;

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

COMMIT;
