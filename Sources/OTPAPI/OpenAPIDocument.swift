/// The OpenAPI 3.1 description of the HTTP contract, served at `GET /openapi.yaml`.
/// Kept in step with the contract by hand; the integration tests check its routes.
package enum OpenAPIDocument {
    package static let yaml = #"""
        openapi: 3.1.0
        info:
          title: OTP phone verification service
          version: 1.0.0
          summary: Send one-time codes by SMS or WhatsApp and verify them.
          description: |
            The HTTP contract of the OTP service, as built now. Everything the contract
            (API.md) names is built: send, verify, resend and status, the management routes
            (`/otp/list`, `/otp/logs`, `/otp/attempts`, `/otp/rate-limits`, `/otp/reports`)
            and the operations routes. Custom message templates (`/otp/templates`) and the
            vendors' delivery receipts (`/webhooks/...`) are built as well.

            Conventions of this implementation where the contract is silent:

            * Request bodies are JSON objects of at most 64 KiB; a larger body answers
              `413 PAYLOAD_TOO_LARGE`. Malformed JSON, or a body that is not a JSON object,
              answers `400 INVALID_JSON`. A field of the wrong type, a missing required field
              or an invalid value answers `400 VALIDATION_ERROR` naming the field in
              `error.field`. Unknown fields are ignored. Text holding a NUL character (`\u0000`
              in a body, `%00` in the path or a query parameter) is such an invalid value,
              whatever the field; lengths are counted in Unicode code points. An empty query
              parameter is an absent one.
            * Times are RFC 3339 in UTC.
            * Every non-2xx answer is JSON with an `error` object (see `Error`); the verify
              route adds its result fields at the top level (see `VerifyResult`).
            * An unknown route answers `404 NOT_FOUND`; a known route with another method
              answers `405 METHOD_NOT_ALLOWED` with an `Allow` header listing its methods.
            * The database being unreachable answers `503 UNAVAILABLE` with `Retry-After`;
              an unexpected failure answers `500 INTERNAL` with a `request_id` that also
              appears in the server log. Nothing internal ever reaches a response body.
            * The one-time code never appears in any response.
            * Lists (`/otp/list`, `/otp/logs`, `/otp/attempts`, `/otp/templates`) answer
              `{"items": [...], "next_cursor": "..." | null}`, newest first. `limit` is 1 to
              1000 (default 50). Pass `next_cursor` back as `cursor` for the next page; null
              means the last page. Cursors are keyset positions (the last row's sort key),
              opaque to clients, so a walk page by page sees every row once while new rows
              arrive. Management routes and lists are scoped to the apps the key may use:
              `appid` narrows them to one app (`403 APP_FORBIDDEN` / `404 APP_NOT_FOUND` as
              elsewhere); without it they cover every app of the account the key may use. A
              bad `limit`, `cursor`, `from`, `to` or filter value answers `400 VALIDATION_ERROR`
              naming the parameter in `error.field`. In lists and reports an empty query
              parameter counts as absent.
        servers:
          - url: http://127.0.0.1:8080
            description: Default listen address (`OTP_HTTP_ADDRESS`).
        tags:
          - name: otp
            description: Verifications. Every route needs credentials.
          - name: operations
            description: Health, metrics and this document. No credentials.
          - name: management
            description: Lists, rate-limit counters and reports over the apps the key may use.
          - name: templates
            description: Custom message templates of the apps.
          - name: receipts
            description: Delivery receipts posted by the vendors, checked by their signatures.
        security:
          - ApiKeyId: []
            ApiKeySecret: []
          - BasicAuth: []
          - BearerAuth: []

        paths:
          /otp/send:
            post:
              tags: [otp]
              operationId: sendVerification
              summary: Start a verification and send a code
              description: |
                Creates a verification for one recipient of one app, makes a code and queues
                its delivery. The answer comes before the message is sent
                (`delivery_status: queued`).

                **Message.** `template` picks the text (a predefined use case or one of the
                app's custom templates) and the locale is chosen as `SendRequest` describes.
                Text, locale and template version are fixed when the delivery is queued: a
                later template edit does not change a queued message, and each delivery
                records the template version it used.

                **Destination.** The recipient must be a valid number by libphonenumber's
                numbering plans (`400 INVALID_RECIPIENT`). Per channel, the app may allow or
                deny countries (`403 COUNTRY_NOT_ALLOWED`) and refuse line types, e.g. fixed
                lines for SMS (`400 INVALID_RECIPIENT`).

                **Rate limits.** Fixed windows (aligned to multiples of the window since the
                Unix epoch), counted in PostgreSQL and shared by every instance. Every send and
                every resend charges each rule below; when one is full nothing is charged or
                sent and the answer is `429 RATE_LIMITED`, with `error.limit` naming the rule and
                `Retry-After` the seconds until its window ends. Each app may change any limit;
                0 turns a rule off. `GET /otp/rate-limits` shows the counters.

                | rule | counts | default |
                |---|---|---|
                | `recipient_10m` | sends to the recipient per 10 minutes | 5 |
                | `recipient_1h` | sends to the recipient per hour | 10 |
                | `recipient_1d` | sends to the recipient per day | 20 |
                | `ip_5m` | sends from the client IP per 5 minutes | 30 |
                | `app_1h` | sends of the app per hour | 1000 |
                | `country_1h` | sends of the app to the recipient's country per hour | 500 |
                | `prefix_1h` | sends to the number's prefix (all but its last 4 digits) per hour | 20 |

                Limits of 64 or more on `app_1h` and `country_1h` are spread over 16 counters,
                each allowed limit / 16 rounded down: together they never admit more than the
                limit, and may refuse up to 15 sends early (more when they fill unevenly).
                Per-IP rules count an IPv6 client by its /64. Verify has its own rules (see
                `/otp/verify`).
              parameters:
                - $ref: '#/components/parameters/IdempotencyKey'
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/SendRequest'
                    examples:
                      minimal:
                        value:
                          appid: app_01hzx3k9q8r7t6y5w4v3u2s1p0
                          recipient: "+5511999888777"
                      full:
                        value:
                          appid: app_01hzx3k9q8r7t6y5w4v3u2s1p0
                          recipient: +55 11 99988-8777
                          channel: whatsapp
                          from: Acme
                          locale: pt-BR
                          code_length: 6
                          expires_in: 300
                          metadata:
                            order_id: "12345"
              responses:
                '202':
                  description: |
                    Verification created and its delivery queued. With a repeated
                    `Idempotency-Key` and the same body within 24 h, the first answer
                    (same status and body) is returned again and nothing is sent.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/SendAccepted'
                '400':
                  description: |
                    `INVALID_JSON`, `VALIDATION_ERROR` (with `field`), `INVALID_RECIPIENT`
                    (not a valid number by libphonenumber, or a line type the app refuses on
                    this channel, e.g. a fixed line for SMS) or `CHANNEL_NOT_ALLOWED` (the
                    channel is not among the app's allowed channels).
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Error'
                      examples:
                        invalidRecipient:
                          value:
                            error:
                              code: INVALID_RECIPIENT
                              message: recipient must be a phone number in E.164 form
                              field: recipient
                        lineTypeRefused:
                          value:
                            error:
                              code: INVALID_RECIPIENT
                              message: this app does not send to fixed_line numbers on this channel
                              field: recipient
                        channelNotAllowed:
                          value:
                            error:
                              code: CHANNEL_NOT_ALLOWED
                              message: this app does not allow whatsapp
                              field: channel
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '403':
                  $ref: '#/components/responses/AppOrCountryForbidden'
                '404':
                  description: |
                    `APP_NOT_FOUND` (unknown appid for this account) or `TEMPLATE_NOT_FOUND`
                    (`template` is neither a use case name nor the id of one of this app's
                    custom templates).
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Error'
                      examples:
                        appNotFound:
                          value:
                            error:
                              code: APP_NOT_FOUND
                              message: no such app for this account
                              field: appid
                        templateNotFound:
                          value:
                            error:
                              code: TEMPLATE_NOT_FOUND
                              message: no such template
                              field: template
                '413':
                  $ref: '#/components/responses/PayloadTooLarge'
                '422':
                  description: '`IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was used within 24 h with another body.'
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Error'
                      example:
                        error:
                          code: IDEMPOTENCY_KEY_REUSED
                          message: Idempotency-Key was already used with another request body
                '429':
                  $ref: '#/components/responses/RateLimited'
                '500':
                  $ref: '#/components/responses/Internal'
                '503':
                  $ref: '#/components/responses/Unavailable'

          /otp/verify:
            post:
              tags: [otp]
              operationId: verifyCode
              summary: Check a code
              description: |
                A code is accepted at most once, only within its lifetime, only for its own
                verification and only while fewer than the app's `max_attempts` (default 5)
                wrong codes were tried. Of two concurrent correct verifies exactly one
                succeeds.

                Every outcome of the check answers a `VerifyResult`. Errors raised before the
                check (bad body, credentials, unknown app, database) and `verify_ip_5m` answer
                the plain `Error`.

                **Guessing limits**, checked in this order, each refusal recorded (as a refused
                try and a `rate_limited` event) and never rolled back:
                1. `recipient`: given and different answers `404 NOT_FOUND` whatever the
                   verification's state; while it is pending it counts as a wrong try.
                2. The verification's own state: locked, expired or verified answer as below
                   and judge nothing.
                3. `verify_failures_1d` (default 100 wrong codes per recipient per UTC day,
                   across its verifications; 0 turns it off): once spent, every verify for the
                   recipient, right codes included, answers `429 RATE_LIMITED` with
                   `error.limit: verify_failures_1d` and `Retry-After` until the day ends.
                4. `verify_backoff` (NIST SP 800-63B 5.2.2): with n wrong codes in a row for the
                   recipient (any verification; a right code resets n), once n reaches the
                   app's `max_attempts` a verify must come 30 s × 2^(n − max_attempts), at most
                   an hour, after the last wrong one; earlier it answers `429 RATE_LIMITED` with
                   `error.limit: verify_backoff` and `Retry-After`. One verification's own
                   tries are never slowed; every verification after a locked one is.
                5. The code.

                `verify_ip_5m` (30 verifies from the client IP per 5 minutes, an IPv6 client
                counted by its /64) is charged by every verify before all of this.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/VerifyRequest'
                    example:
                      appid: app_01hzx3k9q8r7t6y5w4v3u2s1p0
                      verification_id: otp_01hzx4a7b2c3d4e5f6g7h8j9k0
                      otp_code: "482913"
              responses:
                '200':
                  description: '`VERIFIED`: the right code. The verification is now `verified`.'
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/VerifyResult'
                      example:
                        verified: true
                        status: verified
                        code: VERIFIED
                '400':
                  $ref: '#/components/responses/BadRequest'
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '403':
                  $ref: '#/components/responses/AppForbidden'
                '404':
                  description: |
                    `NOT_FOUND` (a `VerifyResult`): the id is unknown or belongs to another
                    app, or `recipient` was given and differs, whatever the verification's
                    state (while it is pending that counts as a wrong try).
                    `APP_NOT_FOUND` (a plain `Error`): unknown appid for this account.
                  content:
                    application/json:
                      schema:
                        anyOf:
                          - $ref: '#/components/schemas/VerifyResult'
                          - $ref: '#/components/schemas/Error'
                      examples:
                        notFound:
                          value:
                            verified: false
                            code: NOT_FOUND
                            error:
                              code: NOT_FOUND
                              message: verification not found
                        appNotFound:
                          value:
                            error:
                              code: APP_NOT_FOUND
                              message: app not found
                '409':
                  description: '`ALREADY_VERIFIED`: the verification was already verified.'
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/VerifyResult'
                      example:
                        verified: false
                        status: verified
                        code: ALREADY_VERIFIED
                        error:
                          code: ALREADY_VERIFIED
                          message: verification already verified
                '410':
                  description: '`EXPIRED`: past `expires_at`. The verification is now `expired`.'
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/VerifyResult'
                      example:
                        verified: false
                        status: expired
                        code: EXPIRED
                        error:
                          code: EXPIRED
                          message: verification expired
                '413':
                  $ref: '#/components/responses/PayloadTooLarge'
                '422':
                  description: '`INVALID_CODE`: a wrong code with tries left. The verification stays `pending`.'
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/VerifyResult'
                      example:
                        verified: false
                        status: pending
                        code: INVALID_CODE
                        attempts_remaining: 3
                        error:
                          code: INVALID_CODE
                          message: wrong code
                '429':
                  description: |
                    `MAX_ATTEMPTS_EXCEEDED` (a `VerifyResult`): a wrong code that was the last
                    try, or any try after it. The verification is now `locked`. No
                    `Retry-After`: it stays locked.
                    `RATE_LIMITED` (a `VerifyResult` with `status: pending`): `verify_failures_1d`
                    is spent or `verify_backoff` asks to wait; nothing was judged.
                    `RATE_LIMITED` (a plain `Error`): `verify_ip_5m` is full. Both name the rule
                    in `error.limit` and send `Retry-After`.
                  headers:
                    Retry-After:
                      description: Seconds until the rule's window ends; with `RATE_LIMITED` only.
                      schema:
                        type: integer
                        minimum: 1
                  content:
                    application/json:
                      schema:
                        anyOf:
                          - $ref: '#/components/schemas/VerifyResult'
                          - $ref: '#/components/schemas/Error'
                      examples:
                        maxAttempts:
                          value:
                            verified: false
                            status: locked
                            code: MAX_ATTEMPTS_EXCEEDED
                            attempts_remaining: 0
                            error:
                              code: MAX_ATTEMPTS_EXCEEDED
                              message: too many wrong codes; ask for a new verification
                        backoff:
                          value:
                            verified: false
                            status: pending
                            code: RATE_LIMITED
                            error:
                              code: RATE_LIMITED
                              message: too many requests; try again later
                              limit: verify_backoff
                        rateLimited:
                          value:
                            error:
                              code: RATE_LIMITED
                              message: too many requests; try again later
                              limit: verify_ip_5m
                '500':
                  $ref: '#/components/responses/Internal'
                '503':
                  $ref: '#/components/responses/Unavailable'

          /otp/resend:
            post:
              tags: [otp]
              operationId: resendCode
              summary: Send the code again, optionally on another channel
              description: |
                Allowed from `resend_available_at` (the app's resend cooldown after the
                last send, 30 s by default), up to the app's `max_sends` (default 5) sends,
                while the verification is `pending`.

                With the app's default resend policy `new_code`, a new code is made, it gets
                a fresh lifetime (`expires_at` moves to now + the verification's TTL) and the
                previous code stops working. With `same_code`, the same code is sent again
                and `expires_at` does not move. Wrong-try counters carry over either way.

                A resend is checked against the app's destination rules for its channel
                (`403 COUNTRY_NOT_ALLOWED`, `400 INVALID_RECIPIENT`) and charges the same rate
                limits as a send (see `/otp/send`); a full one answers `429 RATE_LIMITED`.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/ResendRequest'
                    example:
                      appid: app_01hzx3k9q8r7t6y5w4v3u2s1p0
                      verification_id: otp_01hzx4a7b2c3d4e5f6g7h8j9k0
                      channel: sms
              responses:
                '202':
                  description: The new send is queued. Same shape as the answer of `/otp/send`.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/SendAccepted'
                '400':
                  description: |
                    `INVALID_JSON`, `VALIDATION_ERROR` (with `field`), `CHANNEL_NOT_ALLOWED`, or
                    `INVALID_RECIPIENT` (the app refuses the number's line type on the channel).
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Error'
                      example:
                        error:
                          code: CHANNEL_NOT_ALLOWED
                          message: this app does not allow whatsapp
                          field: channel
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '403':
                  $ref: '#/components/responses/AppOrCountryForbidden'
                '404':
                  $ref: '#/components/responses/AppOrVerificationNotFound'
                '409':
                  description: '`NOT_PENDING`: the verification is verified, locked, expired or canceled.'
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Error'
                      example:
                        error:
                          code: NOT_PENDING
                          message: verification is not pending
                '413':
                  $ref: '#/components/responses/PayloadTooLarge'
                '429':
                  description: |
                    `RESEND_COOLDOWN` before `resend_available_at`, with `Retry-After`;
                    `MAX_SENDS_EXCEEDED` when the verification already had `max_sends` sends;
                    `RATE_LIMITED` when a send-side rule is full, with `error.limit` naming it
                    and `Retry-After`.
                  headers:
                    Retry-After:
                      description: |
                        Seconds until `resend_available_at` (`RESEND_COOLDOWN`) or until the
                        rule's window ends (`RATE_LIMITED`).
                      schema:
                        type: integer
                        minimum: 0
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Error'
                      examples:
                        cooldown:
                          value:
                            error:
                              code: RESEND_COOLDOWN
                              message: wait before asking for another code
                        maxSends:
                          value:
                            error:
                              code: MAX_SENDS_EXCEEDED
                              message: no more codes can be sent for this verification
                        rateLimited:
                          value:
                            error:
                              code: RATE_LIMITED
                              message: too many requests; try again later
                              limit: recipient_10m
                '500':
                  $ref: '#/components/responses/Internal'
                '503':
                  $ref: '#/components/responses/Unavailable'

          /otp/status:
            get:
              tags: [otp]
              operationId: getVerificationStatus
              summary: The state of one verification
              parameters:
                - name: appid
                  in: query
                  required: true
                  schema:
                    type: string
                  example: app_01hzx3k9q8r7t6y5w4v3u2s1p0
                - name: verification_id
                  in: query
                  required: true
                  schema:
                    type: string
                  example: otp_01hzx4a7b2c3d4e5f6g7h8j9k0
              responses:
                '200':
                  description: |
                    The verification. One past `expires_at` reports `expired` even before
                    the expiry job has run.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/VerificationStatus'
                '400':
                  description: '`VALIDATION_ERROR`: a query parameter is missing or invalid (named in `field`).'
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Error'
                      example:
                        error:
                          code: VALIDATION_ERROR
                          message: verification_id is required
                          field: verification_id
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '403':
                  $ref: '#/components/responses/AppForbidden'
                '404':
                  $ref: '#/components/responses/AppOrVerificationNotFound'
                '500':
                  $ref: '#/components/responses/Internal'
                '503':
                  $ref: '#/components/responses/Unavailable'

          /otp/list:
            get:
              tags: [management]
              operationId: listVerifications
              summary: Verifications, newest first
              description: |
                Verifications of the apps the key may use, newest `created_at` first. Each item
                has the fields of `GET /otp/status`.
              parameters:
                - $ref: '#/components/parameters/AppIdFilter'
                - name: status
                  in: query
                  description: |
                    Only this status, as `/otp/status` reports it: `pending` leaves out pending
                    verifications past `expires_at`, which count as `expired`.
                  schema:
                    type: string
                    enum: [pending, verified, locked, expired, canceled]
                - name: channel
                  in: query
                  description: Only verifications on this channel.
                  schema:
                    $ref: '#/components/schemas/Channel'
                - $ref: '#/components/parameters/RecipientFilter'
                - $ref: '#/components/parameters/From'
                - $ref: '#/components/parameters/To'
                - $ref: '#/components/parameters/Limit'
                - $ref: '#/components/parameters/Cursor'
              responses:
                '200':
                  description: A page of verifications.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/VerificationList'
                '400':
                  $ref: '#/components/responses/QueryInvalid'
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '403':
                  $ref: '#/components/responses/AppForbidden'
                '404':
                  $ref: '#/components/responses/AppNotFound'
                '500':
                  $ref: '#/components/responses/Internal'
                '503':
                  $ref: '#/components/responses/Unavailable'

          /otp/logs:
            get:
              tags: [management]
              operationId: listEvents
              summary: The audit trail, newest first
              description: |
                Audit events of the apps the key may use, newest first. Events include
                `send_requested`, `delivery_queued`, `delivery_attempt_failed`, `delivery_sent`,
                `delivery_delivered`, `delivery_failed`, `resend_requested`, `verify_succeeded`,
                `verify_failed`, `locked`, `expired`, `rate_limited` and `refused` (a send or
                resend refused by the app's rules). No event ever holds the code.
              parameters:
                - $ref: '#/components/parameters/AppIdFilter'
                - $ref: '#/components/parameters/VerificationIdFilter'
                - name: event
                  in: query
                  description: Only events of this name.
                  schema:
                    type: string
                    maxLength: 512
                  example: verify_failed
                - $ref: '#/components/parameters/From'
                - $ref: '#/components/parameters/To'
                - $ref: '#/components/parameters/Limit'
                - $ref: '#/components/parameters/Cursor'
              responses:
                '200':
                  description: A page of events.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/EventList'
                '400':
                  $ref: '#/components/responses/QueryInvalid'
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '403':
                  $ref: '#/components/responses/AppForbidden'
                '404':
                  $ref: '#/components/responses/AppNotFound'
                '500':
                  $ref: '#/components/responses/Internal'
                '503':
                  $ref: '#/components/responses/Unavailable'

          /otp/attempts:
            get:
              tags: [management]
              operationId: listAttempts
              summary: Verify attempts and delivery attempts, newest first
              description: |
                Verify attempts (each try of a code) and delivery attempts (each call to a
                provider) in one list, newest `at` first, told apart by `kind`. Filter by
                `verification_id`, or by `appid` and `recipient`.
              parameters:
                - $ref: '#/components/parameters/AppIdFilter'
                - $ref: '#/components/parameters/VerificationIdFilter'
                - $ref: '#/components/parameters/RecipientFilter'
                - name: kind
                  in: query
                  description: Only attempts of this kind.
                  schema:
                    type: string
                    enum: [verify, delivery]
                - $ref: '#/components/parameters/From'
                - $ref: '#/components/parameters/To'
                - $ref: '#/components/parameters/Limit'
                - $ref: '#/components/parameters/Cursor'
              responses:
                '200':
                  description: A page of attempts.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/AttemptList'
                '400':
                  $ref: '#/components/responses/QueryInvalid'
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '403':
                  $ref: '#/components/responses/AppForbidden'
                '404':
                  $ref: '#/components/responses/AppNotFound'
                '500':
                  $ref: '#/components/responses/Internal'
                '503':
                  $ref: '#/components/responses/Unavailable'

          /otp/rate-limits:
            get:
              tags: [management]
              operationId: getRateLimits
              summary: The rate-limit counters that apply to a recipient
              description: |
                Every rule that applies, in its current fixed window: the send-side rules for
                sends to `recipient` (the `ip` ones for the IP this request comes from), then
                `verify_ip_5m` for that IP and `verify_failures_1d` for the recipient. Rules an
                app turned off (limit 0) are left out. See `/otp/send` and `/otp/verify` for the
                rules and their defaults.
              parameters:
                - name: appid
                  in: query
                  required: true
                  schema:
                    type: string
                  example: app_01hzx3k9q8r7t6y5w4v3u2s1p0
                - name: recipient
                  in: query
                  required: true
                  description: A phone number, read like `recipient` on send.
                  schema:
                    type: string
                  example: "+5511999888777"
              responses:
                '200':
                  description: The rules and their counters.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/RateLimits'
                '400':
                  description: |
                    `VALIDATION_ERROR` (`appid` or `recipient` missing) or `INVALID_RECIPIENT`
                    (not a valid number).
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Error'
                      example:
                        error:
                          code: VALIDATION_ERROR
                          message: recipient is required
                          field: recipient
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '403':
                  $ref: '#/components/responses/AppForbidden'
                '404':
                  $ref: '#/components/responses/AppNotFound'
                '500':
                  $ref: '#/components/responses/Internal'
                '503':
                  $ref: '#/components/responses/Unavailable'

          /otp/reports:
            get:
              tags: [management]
              operationId: getReport
              summary: Counts and conversion per day, channel or country
              description: |
                Counts of the verifications started on the UTC days `from` to `to` (both
                inclusive), of the apps the key may use (or of `appid`). Past days are read
                from the daily rollups (`otp rollup`), so a past day not rolled up yet counts
                nothing; today is computed live. Items are sorted by their key; only groups
                with verifications appear. Percentiles do not add up, so over several rollup rows
                `delivery_latency_ms_p50` is the mean of the rows' p50 weighted by `sent`, and
                `delivery_latency_ms_p95` the largest of their p95 (both approximate).

                `format=csv` answers `text/csv` instead: a header line with the same names as
                the JSON items (the group key first, `conversion_rate` last), then one line per
                item; an absent latency is an empty field, `conversion_rate` has 4 decimals,
                and there is no totals line.
              parameters:
                - $ref: '#/components/parameters/AppIdFilter'
                - name: from
                  in: query
                  description: |
                    First UTC day, `YYYY-MM-DD`. Default: 6 days before today, so with neither
                    `from` nor `to` the report covers the last 7 days including today. After
                    `to`: `400 VALIDATION_ERROR` with `field: from`.
                  schema:
                    type: string
                    format: date
                  example: '2024-06-01'
                - name: to
                  in: query
                  description: Last UTC day, `YYYY-MM-DD`. Default today (UTC).
                  schema:
                    type: string
                    format: date
                  example: '2024-06-07'
                - name: group_by
                  in: query
                  description: The key of each item.
                  schema:
                    type: string
                    enum: [day, channel, country]
                    default: day
                - name: format
                  in: query
                  schema:
                    type: string
                    enum: [json, csv]
                    default: json
              responses:
                '200':
                  description: The report.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Report'
                    text/csv:
                      schema:
                        type: string
                      example: |
                        day,verifications,sent,delivered,failed,verified,expired,locked,delivery_latency_ms_p50,delivery_latency_ms_p95,conversion_rate
                        2024-06-01,120,118,112,2,97,15,3,2140,6890,0.8083
                        2024-06-02,4,0,0,4,0,4,0,,,0.0000
                '400':
                  $ref: '#/components/responses/QueryInvalid'
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '403':
                  $ref: '#/components/responses/AppForbidden'
                '404':
                  $ref: '#/components/responses/AppNotFound'
                '500':
                  $ref: '#/components/responses/Internal'
                '503':
                  $ref: '#/components/responses/Unavailable'

          /otp/templates:
            post:
              tags: [templates]
              operationId: createTemplate
              summary: Create a custom template
              description: |
                A custom message text of one app, usable as `template` on `/otp/send`. The body
                is checked as `TemplateBody` describes. The answer measures the body rendered
                with the sample app name `Acme`, a 6-digit code and 5 minutes (`encoding`, `segments`).
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/TemplateCreate'
                    example:
                      appid: app_01hzx3k9q8r7t6y5w4v3u2s1p0
                      name: Login code
                      locale: en
                      body: '{{code}} is your {{app_name}} login code. It expires in {{expires_in_minutes}} minutes.'
              responses:
                '201':
                  description: Created, at version 1.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Template'
                '400':
                  $ref: '#/components/responses/TemplateInvalid'
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '403':
                  $ref: '#/components/responses/AppForbidden'
                '404':
                  $ref: '#/components/responses/AppNotFound'
                '413':
                  $ref: '#/components/responses/PayloadTooLarge'
                '500':
                  $ref: '#/components/responses/Internal'
                '503':
                  $ref: '#/components/responses/Unavailable'
            get:
              tags: [templates]
              operationId: listTemplates
              summary: Custom templates, newest first
              description: |
                The templates (latest versions, deleted ones left out) of the apps the key may
                use, newest `created_at` first. Items carry no `encoding` or `segments`.
              parameters:
                - $ref: '#/components/parameters/AppIdFilter'
                - $ref: '#/components/parameters/Limit'
                - $ref: '#/components/parameters/Cursor'
              responses:
                '200':
                  description: A page of templates.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/TemplateList'
                '400':
                  $ref: '#/components/responses/QueryInvalid'
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '403':
                  $ref: '#/components/responses/AppForbidden'
                '404':
                  $ref: '#/components/responses/AppNotFound'
                '500':
                  $ref: '#/components/responses/Internal'
                '503':
                  $ref: '#/components/responses/Unavailable'

          /otp/templates/{id}:
            parameters:
              - $ref: '#/components/parameters/TemplateId'
            get:
              tags: [templates]
              operationId: getTemplate
              summary: One template, latest version
              description: |
                `encoding` and `segments` measure the body with the sample app name `Acme`, a
                6-digit code and 5 minutes.
              responses:
                '200':
                  description: The template.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Template'
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '404':
                  $ref: '#/components/responses/TemplateNotFound'
                '500':
                  $ref: '#/components/responses/Internal'
                '503':
                  $ref: '#/components/responses/Unavailable'
            put:
              tags: [templates]
              operationId: updateTemplate
              summary: Change a template (a new version)
              description: |
                Each field given replaces the current one; the others stay; a body with none of
                `name`, `locale` and `body` is `400 VALIDATION_ERROR`. Every update makes a new
                version (`version` + 1). Messages already queued keep the text and version they
                were queued with; each delivery records the version it used. The answer has
                `encoding` and `segments`, measured with the sample app name `Acme`.
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/TemplateUpdate'
                    example:
                      body: 'Your {{app_name}} code: {{code}}'
              responses:
                '200':
                  description: The template at its new version.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Template'
                '400':
                  $ref: '#/components/responses/TemplateInvalid'
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '404':
                  $ref: '#/components/responses/TemplateNotFound'
                '413':
                  $ref: '#/components/responses/PayloadTooLarge'
                '500':
                  $ref: '#/components/responses/Internal'
                '503':
                  $ref: '#/components/responses/Unavailable'
            delete:
              tags: [templates]
              operationId: deleteTemplate
              summary: Delete a template
              description: |
                From then on the template answers `404 TEMPLATE_NOT_FOUND`, here and as
                `template` on `/otp/send`. Messages already queued are still sent.
              responses:
                '204':
                  description: Deleted.
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '404':
                  $ref: '#/components/responses/TemplateNotFound'
                '500':
                  $ref: '#/components/responses/Internal'
                '503':
                  $ref: '#/components/responses/Unavailable'

          /otp/templates/{id}/preview:
            parameters:
              - $ref: '#/components/parameters/TemplateId'
            post:
              tags: [templates]
              operationId: previewTemplate
              summary: Render a template with a sample code
              description: |
                Renders the latest version with the code `123456`, 5 minutes and `app_name`
                (default `Acme`), and measures the SMS it makes. The body is optional.
              requestBody:
                required: false
                content:
                  application/json:
                    schema:
                      $ref: '#/components/schemas/TemplatePreviewRequest'
                    example:
                      app_name: Acme
              responses:
                '200':
                  description: The rendered text and its size.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/TemplatePreview'
                '400':
                  $ref: '#/components/responses/BadRequest'
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '404':
                  $ref: '#/components/responses/TemplateNotFound'
                '413':
                  $ref: '#/components/responses/PayloadTooLarge'
                '500':
                  $ref: '#/components/responses/Internal'
                '503':
                  $ref: '#/components/responses/Unavailable'

          /healthz:
            get:
              tags: [operations]
              operationId: healthz
              summary: The process is up
              security: []
              responses:
                '200':
                  description: The process is up.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [status]
                        properties:
                          status:
                            type: string
                            enum: [ok]
                      example:
                        status: ok

          /readyz:
            get:
              tags: [operations]
              operationId: readyz
              summary: The database is reachable and the schema is current
              security: []
              responses:
                '200':
                  description: Ready to serve.
                  content:
                    application/json:
                      schema:
                        type: object
                        required: [status]
                        properties:
                          status:
                            type: string
                            enum: [ready]
                      example:
                        status: ready
                '503':
                  description: '`UNAVAILABLE`: the database is unreachable or migrations are pending.'
                  headers:
                    Retry-After:
                      $ref: '#/components/headers/RetryAfter'
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Error'
                      example:
                        error:
                          code: UNAVAILABLE
                          message: service unavailable

          /metrics:
            get:
              tags: [operations]
              operationId: metrics
              summary: Prometheus metrics
              security: []
              responses:
                '200':
                  description: Metrics in the Prometheus text exposition format.
                  content:
                    text/plain:
                      schema:
                        type: string

          /openapi.yaml:
            get:
              tags: [operations]
              operationId: openapi
              summary: This document
              security: []
              responses:
                '200':
                  description: The OpenAPI description of the HTTP contract.
                  content:
                    application/yaml:
                      schema:
                        type: string

          /webhooks/twilio/status:
            post:
              tags: [receipts]
              operationId: twilioStatusCallback
              summary: Twilio message status callback
              description: |
                Give this URL to Twilio as `StatusCallback` (`TWILIO_STATUS_CALLBACK_URL`, the exact public
                URL). The `X-Twilio-Signature` header is checked with `TWILIO_AUTH_TOKEN`; `delivered` and
                `read` move the delivery to `delivered`, `failed` and `undelivered` to `failed`. Answers
                `404 NOT_FOUND` when Twilio receipts are not configured.
              security: []
              parameters:
                - name: X-Twilio-Signature
                  in: header
                  required: true
                  schema:
                    type: string
              requestBody:
                required: true
                content:
                  application/x-www-form-urlencoded:
                    schema:
                      type: object
                      required: [MessageSid, MessageStatus]
                      properties:
                        MessageSid:
                          type: string
                        MessageStatus:
                          type: string
                        ErrorCode:
                          type: string
              responses:
                '204':
                  description: Recorded (or nothing to record).
                '401':
                  $ref: '#/components/responses/Unauthorized'

          /webhooks/meta:
            get:
              tags: [receipts]
              operationId: metaWebhookHandshake
              summary: Meta webhook verification handshake
              description: Answers `hub.challenge` when `hub.verify_token` equals `WHATSAPP_VERIFY_TOKEN`.
              security: []
              parameters:
                - name: hub.mode
                  in: query
                  required: true
                  schema:
                    type: string
                    const: subscribe
                - name: hub.verify_token
                  in: query
                  required: true
                  schema:
                    type: string
                - name: hub.challenge
                  in: query
                  required: true
                  schema:
                    type: string
              responses:
                '200':
                  description: The challenge, echoed.
                  content:
                    text/plain:
                      schema:
                        type: string
                '403':
                  description: Wrong verify token.
            post:
              tags: [receipts]
              operationId: metaWebhook
              summary: WhatsApp Cloud API message statuses
              description: |
                `X-Hub-Signature-256` is checked with `WHATSAPP_APP_SECRET`. Each `statuses[]` entry whose
                `status` is `delivered` or `read` moves its delivery to `delivered`; `failed` to `failed`.
              security: []
              parameters:
                - name: X-Hub-Signature-256
                  in: header
                  required: true
                  schema:
                    type: string
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      type: object
              responses:
                '200':
                  description: Recorded.
                '401':
                  $ref: '#/components/responses/Unauthorized'

        components:
          securitySchemes:
            ApiKeyId:
              type: apiKey
              in: header
              name: X-API-Key
              description: The key id (`ak_...`). Use together with `X-API-Secret`.
            ApiKeySecret:
              type: apiKey
              in: header
              name: X-API-Secret
              description: The key's secret. Use together with `X-API-Key`.
            BasicAuth:
              type: http
              scheme: basic
              description: '`Authorization: Basic base64(key_id:secret)`.'
            BearerAuth:
              type: http
              scheme: bearer
              bearerFormat: JWT or base64(key_id:secret)
              description: |
                `Authorization: Bearer <token>`, where the token is either
                `base64(key_id:secret)`, or a JWT signed HS256 with the key's secret (its
                UTF-8 bytes as the HMAC key), with header `kid` = key_id and claims `iat`
                and `exp` (both required; `exp` at most 3600 s after `iat`) and optionally
                `appid` (then only that app may be used).

          parameters:
            IdempotencyKey:
              name: Idempotency-Key
              in: header
              required: false
              description: |
                The same key with the same body within 24 h returns the first answer (same
                status and body) and sends nothing; the same key with another body answers
                `422 IDEMPOTENCY_KEY_REUSED`. Keys are scoped to the API key's account.
              schema:
                type: string
                pattern: ^[A-Za-z0-9_:-]{1,255}$
              example: order-12345-login
            AppIdFilter:
              name: appid
              in: query
              required: false
              description: |
                Only this app (`403 APP_FORBIDDEN` when the key may not use it,
                `404 APP_NOT_FOUND` when the account has no such app). Default: every app of
                the account the key may use.
              schema:
                type: string
              example: app_01hzx3k9q8r7t6y5w4v3u2s1p0
            VerificationIdFilter:
              name: verification_id
              in: query
              required: false
              description: Only rows of this verification.
              schema:
                type: string
                maxLength: 512
              example: otp_01hzx4a7b2c3d4e5f6g7h8j9k0
            RecipientFilter:
              name: recipient
              in: query
              required: false
              description: |
                Only rows of verifications to this number; read like `recipient` on send
                (`+55 11 99988-8777` finds `+5511999888777`).
              schema:
                type: string
                maxLength: 512
              example: "+5511999888777"
            From:
              name: from
              in: query
              required: false
              description: |
                RFC 3339 time such as `2024-06-01T00:00:00Z`: only rows at or after it (a
                verification's `created_at`, an event's or attempt's `at`).
              schema:
                type: string
                format: date-time
            To:
              name: to
              in: query
              required: false
              description: RFC 3339 time; only rows at or before it.
              schema:
                type: string
                format: date-time
            Limit:
              name: limit
              in: query
              required: false
              description: Items per page.
              schema:
                type: integer
                minimum: 1
                maximum: 1000
                default: 50
            Cursor:
              name: cursor
              in: query
              required: false
              description: |
                The `next_cursor` of the previous page, unchanged. Opaque; one the service
                did not give answers `400 VALIDATION_ERROR` with `field: cursor`.
              schema:
                type: string
                maxLength: 512
            TemplateId:
              name: id
              in: path
              required: true
              description: |
                A template id. One that is unknown, deleted, or of an app the key may not use
                (or of another account) answers `404 TEMPLATE_NOT_FOUND`.
              schema:
                type: string
              example: tpl_7k2m9q4x8w1z5c3v6b0n

          headers:
            RetryAfter:
              description: Seconds to wait before trying again.
              required: true
              schema:
                type: integer
                minimum: 0
              example: 30

          schemas:
            Channel:
              type: string
              enum: [sms, whatsapp]

            Timestamp:
              type: string
              format: date-time
              description: RFC 3339, UTC.
              example: '2024-06-01T12:05:00Z'

            VerificationId:
              type: string
              pattern: ^otp_[0-9a-z]{26}$
              example: otp_01hzx4a7b2c3d4e5f6g7h8j9k0

            SendRequest:
              type: object
              required: [appid, recipient]
              properties:
                appid:
                  type: string
                  example: app_01hzx3k9q8r7t6y5w4v3u2s1p0
                recipient:
                  type: string
                  description: |
                    International form: `+`, the country code and the number. Punctuation
                    such as spaces, dots, dashes and parentheses is accepted, so
                    `+55 11 99988-8777` is normalised to `+5511999888777`. The number must be
                    valid by libphonenumber's numbering plans, else `400 INVALID_RECIPIENT`;
                    the app's country and line-type rules for the channel apply too (see the
                    operation).
                  example: "+5511999888777"
                channel:
                  $ref: '#/components/schemas/Channel'
                  description: |
                    Default: the app's default channel (`sms` for a new app). A channel the
                    app does not allow answers `400 CHANNEL_NOT_ALLOWED`.
                from:
                  type: string
                  description: |
                    Sender name: 1 to 11 letters, digits and spaces with at least one letter,
                    or an E.164 number. Default: the app's.
                  pattern: ^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$|^\+[0-9]{8,15}$
                  example: Acme
                template:
                  type: string
                  description: |
                    Either the use case of a predefined text, `verification`, `signup`,
                    `login`, `password_reset`, `transaction` or `phone_change`, or the id of one
                    of this app's custom templates (`tpl_...`, see `/otp/templates`). Anything
                    else answers `404 TEMPLATE_NOT_FOUND`. Default: the app's default template,
                    else `verification`.
                  example: login
                locale:
                  type: string
                  description: |
                    BCP 47 language tag. Default: the app's default locale, else the locale of
                    the recipient's country (e.g. `BR` → `pt-BR`, `PT` → `pt`, `DE` → `de`,
                    `IN` → `en`; unlisted countries → `en`). Predefined texts exist in `en`,
                    `pt-BR`, `pt`, `es`, `fr`, `de`, `it`, `id` and `hi`; another tag falls back
                    to the closest one: the exact tag, then language and region, then the
                    language alone, then `en` (so `pt-BR` → `pt` → `en`). A custom template is
                    sent in its own locale.
                  pattern: ^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$
                  maxLength: 35
                  example: pt-BR
                code_length:
                  type: integer
                  minimum: 6
                  maximum: 10
                  description: Digits in the code. Default the app's, which defaults to 6.
                expires_in:
                  type: integer
                  minimum: 60
                  maximum: 600
                  description: Lifetime of the code in seconds. Default the app's TTL, which defaults to 300.
                metadata:
                  type: object
                  description: A flat object of at most 10 string values, kept with the verification.
                  maxProperties: 10
                  propertyNames:
                    minLength: 1
                    maxLength: 128
                  additionalProperties:
                    type: string
                    maxLength: 128

            SendAccepted:
              type: object
              required: [verification_id, status, channel, recipient, expires_at, resend_available_at, delivery_status]
              properties:
                verification_id:
                  $ref: '#/components/schemas/VerificationId'
                status:
                  type: string
                  enum: [pending]
                channel:
                  $ref: '#/components/schemas/Channel'
                recipient:
                  type: string
                  description: The normalised E.164 number.
                  pattern: ^\+[0-9]{8,15}$
                  example: "+5511999888777"
                expires_at:
                  $ref: '#/components/schemas/Timestamp'
                resend_available_at:
                  $ref: '#/components/schemas/Timestamp'
                delivery_status:
                  type: string
                  enum: [queued]
              example:
                verification_id: otp_01hzx4a7b2c3d4e5f6g7h8j9k0
                status: pending
                channel: sms
                recipient: "+5511999888777"
                expires_at: '2024-06-01T12:05:00Z'
                resend_available_at: '2024-06-01T12:00:30Z'
                delivery_status: queued

            VerifyRequest:
              type: object
              required: [appid, verification_id, otp_code]
              properties:
                appid:
                  type: string
                  example: app_01hzx3k9q8r7t6y5w4v3u2s1p0
                verification_id:
                  type: string
                  example: otp_01hzx4a7b2c3d4e5f6g7h8j9k0
                otp_code:
                  type: string
                  description: |
                    The code: 6 to 10 digits. Letters or a length outside 6..10 answer
                    `400 VALIDATION_ERROR` with `field: otp_code`.
                  pattern: ^[0-9]{6,10}$
                  example: "482913"
                recipient:
                  type: string
                  description: |
                    Optional. When given it must match the verification's recipient
                    (normalised like on send); otherwise `404 NOT_FOUND`, counted as a wrong try.
                  example: "+5511999888777"

            VerifyResult:
              type: object
              description: |
                The outcome of a verify. On a non-2xx answer `error` is present too, with
                the same `code`.
              required: [verified, code]
              properties:
                verified:
                  type: boolean
                status:
                  type: string
                  description: The verification's status after this call; absent with `NOT_FOUND`.
                  enum: [pending, verified, locked, expired]
                code:
                  type: string
                  enum: [VERIFIED, INVALID_CODE, MAX_ATTEMPTS_EXCEEDED, EXPIRED, ALREADY_VERIFIED, NOT_FOUND, RATE_LIMITED]
                attempts_remaining:
                  type: integer
                  minimum: 0
                  description: Wrong tries left, where it applies.
                error:
                  $ref: '#/components/schemas/ErrorDetail'

            ResendRequest:
              type: object
              required: [appid, verification_id]
              properties:
                appid:
                  type: string
                  example: app_01hzx3k9q8r7t6y5w4v3u2s1p0
                verification_id:
                  type: string
                  example: otp_01hzx4a7b2c3d4e5f6g7h8j9k0
                channel:
                  $ref: '#/components/schemas/Channel'
                  description: Optional; switches the verification to this channel.

            VerificationStatus:
              type: object
              required:
                - verification_id
                - appid
                - status
                - channel
                - recipient
                - attempts
                - attempts_remaining
                - sends
                - delivery_status
                - created_at
                - expires_at
                - verified_at
                - resend_available_at
              properties:
                verification_id:
                  $ref: '#/components/schemas/VerificationId'
                appid:
                  type: string
                status:
                  type: string
                  enum: [pending, verified, locked, expired, canceled]
                channel:
                  $ref: '#/components/schemas/Channel'
                recipient:
                  type: string
                  description: Masked; every digit but the last 4 replaced by `*`, the leading `+` kept.
                  example: +*********8777
                attempts:
                  type: integer
                  minimum: 0
                attempts_remaining:
                  type: integer
                  minimum: 0
                sends:
                  type: integer
                  minimum: 0
                delivery_status:
                  type: string
                  description: The state of the latest delivery.
                  enum: [queued, sending, sent, delivered, failed]
                created_at:
                  $ref: '#/components/schemas/Timestamp'
                expires_at:
                  $ref: '#/components/schemas/Timestamp'
                verified_at:
                  type: [string, 'null']
                  format: date-time
                  description: RFC 3339, UTC; null until verified.
                resend_available_at:
                  $ref: '#/components/schemas/Timestamp'
              example:
                verification_id: otp_01hzx4a7b2c3d4e5f6g7h8j9k0
                appid: app_01hzx3k9q8r7t6y5w4v3u2s1p0
                status: pending
                channel: sms
                recipient: +*********8777
                attempts: 1
                attempts_remaining: 4
                sends: 1
                delivery_status: delivered
                created_at: '2024-06-01T12:00:00Z'
                expires_at: '2024-06-01T12:05:00Z'
                verified_at: null
                resend_available_at: '2024-06-01T12:00:30Z'

            ErrorDetail:
              type: object
              required: [code, message]
              properties:
                code:
                  type: string
                  description: UPPER_SNAKE error code.
                  example: VALIDATION_ERROR
                message:
                  type: string
                  description: Human-readable text.
                field:
                  type: string
                  description: The request field at fault, where one field is.
                limit:
                  type: string
                  description: The rule that applied; with `RATE_LIMITED` only.
                request_id:
                  type: string
                  description: With `INTERNAL`; the same id appears in the server log.

            Error:
              type: object
              required: [error]
              properties:
                error:
                  $ref: '#/components/schemas/ErrorDetail'

            NextCursor:
              type: [string, 'null']
              description: Pass as `cursor` for the next page; null on the last page.

            VerificationList:
              type: object
              required: [items, next_cursor]
              properties:
                items:
                  type: array
                  items:
                    $ref: '#/components/schemas/VerificationStatus'
                next_cursor:
                  $ref: '#/components/schemas/NextCursor'

            Event:
              type: object
              required: [id, at, event, appid, verification_id, actor, ip, details]
              properties:
                id:
                  type: string
                  description: Decimal digits; later events have larger ids.
                  pattern: ^[0-9]+$
                at:
                  $ref: '#/components/schemas/Timestamp'
                event:
                  type: string
                  example: verify_failed
                appid:
                  type: [string, 'null']
                verification_id:
                  type: [string, 'null']
                actor:
                  type: [string, 'null']
                  description: The API key id that caused the event; null for the service's own events.
                ip:
                  type: [string, 'null']
                  description: The client address of the request that caused it, when there was one.
                details:
                  type: object
                  description: Event-specific facts (e.g. `outcome`, `attempts`, `limit`, `reason`); never the code.
                  additionalProperties:
                    type: [string, number, boolean, 'null']
              example:
                id: "18342"
                at: '2024-06-01T12:01:10Z'
                event: verify_failed
                appid: app_01hzx3k9q8r7t6y5w4v3u2s1p0
                verification_id: otp_01hzx4a7b2c3d4e5f6g7h8j9k0
                actor: ak_3f9k2m8q1w7e4r6t0y5u2i9o
                ip: 203.0.113.7
                details:
                  outcome: INVALID_CODE
                  attempts: 1

            EventList:
              type: object
              required: [items, next_cursor]
              properties:
                items:
                  type: array
                  items:
                    $ref: '#/components/schemas/Event'
                next_cursor:
                  $ref: '#/components/schemas/NextCursor'

            VerifyAttempt:
              type: object
              description: One try of a code.
              required: [kind, at, verification_id, appid, success, reason, ip]
              properties:
                kind:
                  type: string
                  const: verify
                at:
                  $ref: '#/components/schemas/Timestamp'
                verification_id:
                  $ref: '#/components/schemas/VerificationId'
                appid:
                  type: string
                success:
                  type: [boolean, 'null']
                reason:
                  type: [string, 'null']
                  description: The verify outcome in lower case, e.g. `verified`, `invalid_code`, `max_attempts_exceeded`.
                ip:
                  type: [string, 'null']
              example:
                kind: verify
                at: '2024-06-01T12:01:10Z'
                verification_id: otp_01hzx4a7b2c3d4e5f6g7h8j9k0
                appid: app_01hzx3k9q8r7t6y5w4v3u2s1p0
                success: false
                reason: invalid_code
                ip: 203.0.113.7

            DeliveryAttempt:
              type: object
              description: One call to a provider for one delivery.
              required:
                - kind
                - at
                - verification_id
                - appid
                - provider
                - outcome
                - http_status
                - provider_message_id
                - error
                - latency_ms
              properties:
                kind:
                  type: string
                  const: delivery
                at:
                  $ref: '#/components/schemas/Timestamp'
                verification_id:
                  $ref: '#/components/schemas/VerificationId'
                appid:
                  type: string
                provider:
                  type: [string, 'null']
                  example: twilio
                outcome:
                  type: [string, 'null']
                  description: '`accepted`, `retryable` (will be tried again) or `permanent`.'
                http_status:
                  type: [integer, 'null']
                provider_message_id:
                  type: [string, 'null']
                error:
                  type: [string, 'null']
                  description: "The provider's error code and message, as `code: message` when both exist."
                latency_ms:
                  type: [integer, 'null']
                  minimum: 0
              example:
                kind: delivery
                at: '2024-06-01T12:00:01Z'
                verification_id: otp_01hzx4a7b2c3d4e5f6g7h8j9k0
                appid: app_01hzx3k9q8r7t6y5w4v3u2s1p0
                provider: twilio
                outcome: accepted
                http_status: 201
                provider_message_id: SM0123456789abcdef0123456789abcdef
                error: null
                latency_ms: 412

            Attempt:
              oneOf:
                - $ref: '#/components/schemas/VerifyAttempt'
                - $ref: '#/components/schemas/DeliveryAttempt'
              discriminator:
                propertyName: kind
                mapping:
                  verify: '#/components/schemas/VerifyAttempt'
                  delivery: '#/components/schemas/DeliveryAttempt'

            AttemptList:
              type: object
              required: [items, next_cursor]
              properties:
                items:
                  type: array
                  items:
                    $ref: '#/components/schemas/Attempt'
                next_cursor:
                  $ref: '#/components/schemas/NextCursor'

            RateLimitRule:
              type: object
              required: [rule, scope, limit, window_seconds, used, remaining, reset_at]
              properties:
                rule:
                  type: string
                  enum:
                    - recipient_10m
                    - recipient_1h
                    - recipient_1d
                    - ip_5m
                    - app_1h
                    - country_1h
                    - prefix_1h
                    - verify_ip_5m
                    - verify_failures_1d
                scope:
                  type: string
                  description: What the rule counts per.
                  enum: [recipient, ip, app, country, prefix]
                limit:
                  type: integer
                  minimum: 1
                  description: The app's limit for the rule (its own, or the default).
                window_seconds:
                  type: integer
                  enum: [300, 600, 3600, 86400]
                used:
                  type: integer
                  minimum: 0
                  description: Charges in the current window.
                remaining:
                  type: integer
                  minimum: 0
                  description: '`limit` - `used`, at least 0.'
                reset_at:
                  $ref: '#/components/schemas/Timestamp'
                  description: When the current window ends.

            RateLimits:
              type: object
              required: [rules]
              properties:
                rules:
                  type: array
                  items:
                    $ref: '#/components/schemas/RateLimitRule'
              example:
                rules:
                  - rule: recipient_10m
                    scope: recipient
                    limit: 5
                    window_seconds: 600
                    used: 2
                    remaining: 3
                    reset_at: '2024-06-01T12:10:00Z'
                  - rule: verify_ip_5m
                    scope: ip
                    limit: 30
                    window_seconds: 300
                    used: 1
                    remaining: 29
                    reset_at: '2024-06-01T12:05:00Z'

            ReportCounts:
              type: object
              required:
                - verifications
                - sent
                - delivered
                - failed
                - verified
                - expired
                - locked
                - delivery_latency_ms_p50
                - delivery_latency_ms_p95
                - conversion_rate
              properties:
                verifications:
                  type: integer
                  minimum: 0
                  description: Verifications started.
                sent:
                  type: integer
                  minimum: 0
                  description: Their messages a provider accepted.
                delivered:
                  type: integer
                  minimum: 0
                  description: Their messages with a delivery receipt.
                failed:
                  type: integer
                  minimum: 0
                  description: Their messages that failed for good.
                verified:
                  type: integer
                  minimum: 0
                expired:
                  type: integer
                  minimum: 0
                locked:
                  type: integer
                  minimum: 0
                delivery_latency_ms_p50:
                  type: [integer, 'null']
                  description: |
                    Median time from the send request to the first message a provider
                    accepted; null when none was. Over several rollup rows, the mean of their
                    p50 weighted by `sent` (approximate).
                delivery_latency_ms_p95:
                  type: [integer, 'null']
                  description: 95th percentile of the same; over several rollup rows, the largest of their p95 (approximate).
                conversion_rate:
                  type: number
                  minimum: 0
                  maximum: 1
                  description: '`verified` / `verifications`; 0 when there are none.'

            ReportItem:
              description: The counts of one group, with its key named after `group_by`.
              allOf:
                - $ref: '#/components/schemas/ReportCounts'
              oneOf:
                - required: [day]
                - required: [channel]
                - required: [country]
              properties:
                day:
                  type: string
                  format: date
                  description: UTC day, `YYYY-MM-DD`.
                channel:
                  $ref: '#/components/schemas/Channel'
                country:
                  type: string
                  description: The recipients' ISO 3166 region code, by libphonenumber.
                  example: BR

            Report:
              type: object
              required: [items, totals]
              properties:
                items:
                  type: array
                  items:
                    $ref: '#/components/schemas/ReportItem'
                totals:
                  $ref: '#/components/schemas/ReportCounts'
              example:
                items:
                  - day: '2024-06-01'
                    verifications: 120
                    sent: 118
                    delivered: 112
                    failed: 2
                    verified: 97
                    expired: 15
                    locked: 3
                    delivery_latency_ms_p50: 2140
                    delivery_latency_ms_p95: 6890
                    conversion_rate: 0.8083333333333333
                  - day: '2024-06-02'
                    verifications: 4
                    sent: 0
                    delivered: 0
                    failed: 4
                    verified: 0
                    expired: 4
                    locked: 0
                    delivery_latency_ms_p50: null
                    delivery_latency_ms_p95: null
                    conversion_rate: 0
                totals:
                  verifications: 124
                  sent: 118
                  delivered: 112
                  failed: 6
                  verified: 97
                  expired: 19
                  locked: 3
                  delivery_latency_ms_p50: 2140
                  delivery_latency_ms_p95: 6890
                  conversion_rate: 0.782258064516129

            TemplateBody:
              type: string
              minLength: 1
              maxLength: 1000
              description: |
                Mustache text, rendered as plain text (no HTML escaping). Rules, each broken
                one answering `400 VALIDATION_ERROR` with `field: body`:

                * not empty or blank, and at most 1000 characters;
                * `{{code}}` exactly once;
                * no other variables than `{{code}}`, `{{app_name}}` and `{{expires_in_minutes}}`;
                * plain variables only: no sections, inverted sections, partials, comments or
                  delimiter changes (`{{#...}}`, `{{^...}}`, `{{>...}}`, `{{!...}}`, `{{=...=}}`);
                * rendered with a 10-digit code, a 30-character app name and 10 minutes, at
                  most 3 SMS segments (153 GSM-7 or 67 UCS-2 characters each; one segment up
                  to 160 or 70).
              example: '{{code}} is your {{app_name}} code. It expires in {{expires_in_minutes}} minutes.'

            TemplateLocale:
              type: string
              description: 'BCP 47 language tag; else `400 VALIDATION_ERROR` with `field: locale`.'
              pattern: ^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$
              maxLength: 35
              example: en

            TemplateName:
              type: string
              minLength: 1
              maxLength: 100
              description: '1 to 100 characters; else `400 VALIDATION_ERROR` with `field: name`.'
              example: Login code

            TemplateCreate:
              type: object
              required: [appid, name, body]
              properties:
                appid:
                  type: string
                  description: The app the template belongs to.
                  example: app_01hzx3k9q8r7t6y5w4v3u2s1p0
                name:
                  $ref: '#/components/schemas/TemplateName'
                locale:
                  $ref: '#/components/schemas/TemplateLocale'
                  default: en
                body:
                  $ref: '#/components/schemas/TemplateBody'

            TemplateUpdate:
              type: object
              description: Any of the fields; the template's app cannot change (`appid` is ignored).
              properties:
                name:
                  $ref: '#/components/schemas/TemplateName'
                locale:
                  $ref: '#/components/schemas/TemplateLocale'
                body:
                  $ref: '#/components/schemas/TemplateBody'

            SMSEncoding:
              type: string
              enum: [GSM-7, UCS-2]
              description: '`GSM-7` when every character is in the GSM 7-bit alphabet, else `UCS-2`.'

            Template:
              type: object
              required: [id, appid, name, locale, body, version, created_at, updated_at]
              properties:
                id:
                  type: string
                  pattern: ^tpl_[0-9a-z]{20}$
                  example: tpl_7k2m9q4x8w1z5c3v6b0n
                appid:
                  type: string
                name:
                  type: string
                locale:
                  type: string
                  description: The locale the template's messages are sent in.
                body:
                  type: string
                version:
                  type: integer
                  minimum: 1
                  description: 1 on create, one more on each update.
                created_at:
                  $ref: '#/components/schemas/Timestamp'
                updated_at:
                  $ref: '#/components/schemas/Timestamp'
                encoding:
                  $ref: '#/components/schemas/SMSEncoding'
                  description: Present when the answer measured the body (see the operation).
                segments:
                  type: integer
                  minimum: 1
                  description: SMS segments of the measured message; with `encoding`.
              example:
                id: tpl_7k2m9q4x8w1z5c3v6b0n
                appid: app_01hzx3k9q8r7t6y5w4v3u2s1p0
                name: Login code
                locale: en
                body: '{{code}} is your {{app_name}} login code. It expires in {{expires_in_minutes}} minutes.'
                version: 1
                created_at: '2024-06-01T11:00:00Z'
                updated_at: '2024-06-01T11:00:00Z'
                encoding: GSM-7
                segments: 1

            TemplateList:
              type: object
              required: [items, next_cursor]
              properties:
                items:
                  type: array
                  items:
                    $ref: '#/components/schemas/Template'
                next_cursor:
                  $ref: '#/components/schemas/NextCursor'

            TemplatePreviewRequest:
              type: object
              properties:
                app_name:
                  type: string
                  description: The app name to render with. Default `Acme`.

            TemplatePreview:
              type: object
              required: [text, encoding, characters, segments]
              properties:
                text:
                  type: string
                  description: The rendered message.
                encoding:
                  $ref: '#/components/schemas/SMSEncoding'
                characters:
                  type: integer
                  minimum: 0
                  description: |
                    Length in the encoding's units: GSM-7 septets (an extension character such
                    as `€` takes two) or UTF-16 code units for UCS-2.
                segments:
                  type: integer
                  minimum: 0
              example:
                text: 123456 is your Acme login code. It expires in 5 minutes.
                encoding: GSM-7
                characters: 56
                segments: 1

          responses:
            BadRequest:
              description: '`INVALID_JSON`, or `VALIDATION_ERROR` naming the field in `error.field`.'
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Error'
                  examples:
                    invalidJSON:
                      value:
                        error:
                          code: INVALID_JSON
                          message: request body is not a JSON object
                    validation:
                      value:
                        error:
                          code: VALIDATION_ERROR
                          message: otp_code must be 6 to 10 digits
                          field: otp_code
            Unauthorized:
              description: |
                `UNAUTHORIZED`: missing or wrong credentials (a revoked key is wrong). Same
                body whichever part was wrong.
              headers:
                WWW-Authenticate:
                  description: The accepted schemes.
                  required: true
                  schema:
                    type: string
                  example: Basic realm="otp", Bearer realm="otp"
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Error'
                  example:
                    error:
                      code: UNAUTHORIZED
                      message: missing or invalid credentials
            AppForbidden:
              description: '`APP_FORBIDDEN`: the key may not use this app.'
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Error'
                  example:
                    error:
                      code: APP_FORBIDDEN
                      message: this key may not use this app
                      field: appid
            AppOrVerificationNotFound:
              description: |
                `APP_NOT_FOUND` (unknown appid for this account) or `NOT_FOUND` (unknown
                verification id, or one of another app).
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Error'
                  examples:
                    appNotFound:
                      value:
                        error:
                          code: APP_NOT_FOUND
                          message: app not found
                    notFound:
                      value:
                        error:
                          code: NOT_FOUND
                          message: verification not found
            PayloadTooLarge:
              description: '`PAYLOAD_TOO_LARGE`: the body is larger than 64 KiB.'
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Error'
                  example:
                    error:
                      code: PAYLOAD_TOO_LARGE
                      message: request body is larger than 64 KiB
            NotFound:
              description: '`NOT_FOUND`: unknown route.'
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Error'
                  example:
                    error:
                      code: NOT_FOUND
                      message: route not found
            MethodNotAllowed:
              description: '`METHOD_NOT_ALLOWED`: a known route with another method.'
              headers:
                Allow:
                  description: The route's methods, e.g. `GET, POST`.
                  schema:
                    type: string
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Error'
                  example:
                    error:
                      code: METHOD_NOT_ALLOWED
                      message: method not allowed
            Unavailable:
              description: '`UNAVAILABLE`: the database is unreachable.'
              headers:
                Retry-After:
                  $ref: '#/components/headers/RetryAfter'
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Error'
                  example:
                    error:
                      code: UNAVAILABLE
                      message: service unavailable
            Internal:
              description: '`INTERNAL`: an unexpected failure; `request_id` also appears in the server log.'
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Error'
                  example:
                    error:
                      code: INTERNAL
                      message: internal error
                      request_id: req_01hzx5m2n3p4q5r6s7t8v9w0x1
            AppNotFound:
              description: '`APP_NOT_FOUND`: unknown appid for this account.'
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Error'
                  example:
                    error:
                      code: APP_NOT_FOUND
                      message: no such app for this account
                      field: appid
            AppOrCountryForbidden:
              description: |
                `APP_FORBIDDEN` (the key may not use this app) or `COUNTRY_NOT_ALLOWED` (the
                app's country rules for the channel do not allow the recipient's country).
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Error'
                  examples:
                    appForbidden:
                      value:
                        error:
                          code: APP_FORBIDDEN
                          message: this key may not use this app
                          field: appid
                    countryNotAllowed:
                      value:
                        error:
                          code: COUNTRY_NOT_ALLOWED
                          message: this app does not send to that country
                          field: recipient
            RateLimited:
              description: |
                `RATE_LIMITED`: a rate-limit rule is full. `error.limit` names the rule and
                `Retry-After` gives the seconds until its window ends.
              headers:
                Retry-After:
                  $ref: '#/components/headers/RetryAfter'
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Error'
                  example:
                    error:
                      code: RATE_LIMITED
                      message: too many requests; try again later
                      limit: recipient_10m
            QueryInvalid:
              description: '`VALIDATION_ERROR`: a query parameter is invalid; `error.field` names it.'
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Error'
                  examples:
                    cursor:
                      value:
                        error:
                          code: VALIDATION_ERROR
                          message: cursor is not one this service gave
                          field: cursor
                    limit:
                      value:
                        error:
                          code: VALIDATION_ERROR
                          message: limit must be 1 to 1000
                          field: limit
                    time:
                      value:
                        error:
                          code: VALIDATION_ERROR
                          message: from must be an RFC 3339 time such as 2026-01-31T23:59:59Z
                          field: from
            TemplateInvalid:
              description: |
                `INVALID_JSON`, or `VALIDATION_ERROR` with `field` `body` (see
                `TemplateBody`), `locale`, `name` or (on create) `appid`.
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Error'
                  examples:
                    codeCount:
                      value:
                        error:
                          code: VALIDATION_ERROR
                          message: the template must contain {{code}} exactly once, not 2 times
                          field: body
                    unknownVariable:
                      value:
                        error:
                          code: VALIDATION_ERROR
                          message: unknown variable {{user}}; use {{code}}, {{app_name}}, {{expires_in_minutes}}
                          field: body
                    locale:
                      value:
                        error:
                          code: VALIDATION_ERROR
                          message: locale must be a BCP 47 tag such as pt-BR
                          field: locale
            TemplateNotFound:
              description: |
                `TEMPLATE_NOT_FOUND`: no such template, a deleted one, or one of an app the key
                may not use or of another account.
              content:
                application/json:
                  schema:
                    $ref: '#/components/schemas/Error'
                  example:
                    error:
                      code: TEMPLATE_NOT_FOUND
                      message: no such template
                      field: template
        """#
}
