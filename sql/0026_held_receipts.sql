-- Delivery receipts that arrived before the worker recorded their message's outcome: a gateway's
-- report can beat the worker's commit (Kannel's fake SMSC answers in milliseconds; a real one can
-- too). PostgresReceiptStore holds such a receipt here when no delivery has its message id yet, and
-- `otp work` applies it once the delivery is `sent` (or drops it after 10 minutes). Only receipts
-- whose signature or token checked out get here.
CREATE TABLE otp.held_receipts (
    provider            text NOT NULL,
    provider_message_id text NOT NULL,
    outcome             text NOT NULL CHECK (outcome IN ('delivered', 'failed')),
    error_code          text,
    received_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, provider_message_id, outcome)
);
