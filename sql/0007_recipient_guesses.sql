-- Each recipient's run of wrong codes, across its verifications, for the growing wait between
-- guesses (NIST SP 800-63B 5.2.2). A verify locks its row with the verification, so concurrent
-- verifies for one recipient are judged one after another; a right code ends the run.
CREATE TABLE otp.recipient_guesses (
    app_id        text NOT NULL,
    recipient     text NOT NULL,
    wrong_in_row  integer NOT NULL DEFAULT 0,
    last_wrong_at timestamptz,
    PRIMARY KEY (app_id, recipient)
);
