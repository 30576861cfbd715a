-- The addresses each account logged in from successfully: a known address keeps working
-- while others' failures have the account locked.
CREATE TABLE rbac_login_addresses (
    account       VARBINARY(320) NOT NULL,
    address       VARBINARY(64)  NOT NULL,
    last_success  BIGINT NOT NULL,
    PRIMARY KEY (account, address)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
