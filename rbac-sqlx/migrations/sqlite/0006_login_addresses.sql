-- The addresses each account logged in from successfully: a known address keeps working
-- while others' failures have the account locked.
CREATE TABLE rbac_login_addresses (
    account       TEXT   NOT NULL,
    address       TEXT   NOT NULL,
    last_success  BIGINT NOT NULL,
    PRIMARY KEY (account, address)
);
