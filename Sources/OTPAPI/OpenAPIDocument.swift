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
            The HTTP contract of the OTP service, as built now. The management routes
            (`/otp/list`, `/otp/logs`, `/otp/attempts`, `/otp/rate-limits`, `/otp/reports`)
            are part of the contract but are not built yet, so they are not described here.

            Conventions of this implementation where the contract is silent:

            * Request bodies are JSON objects of at most 64 KiB; a larger body answers
              `413 PAYLOAD_TOO_LARGE`. Malformed JSON, or a body that is not a JSON object,
              answers `400 INVALID_JSON`. A field of the wrong type, a missing required field
              or an invalid value answers `400 VALIDATION_ERROR` naming the field in
              `error.field`. Unknown fields are ignored.
            * Times are RFC 3339 in UTC.
            * Every non-2xx answer is JSON with an `error` object (see `Error`); the verify
              route adds its result fields at the top level (see `VerifyResult`).
            * An unknown route answers `404 NOT_FOUND`; a known route with another method
              answers `405 METHOD_NOT_ALLOWED`.
            * The database being unreachable answers `503 UNAVAILABLE` with `Retry-After`;
              an unexpected failure answers `500 INTERNAL` with a `request_id` that also
              appears in the server log. Nothing internal ever reaches a response body.
            * The one-time code never appears in any response.
        servers:
          - url: http://127.0.0.1:8080
            description: Default listen address (`OTP_HTTP_ADDRESS`).
        tags:
          - name: otp
            description: Verifications. Every route needs credentials.
          - name: operations
            description: Health, metrics and this document. No credentials.
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
                    (the recipient is not a valid E.164 number) or `CHANNEL_NOT_ALLOWED`
                    (the channel is not among the app's allowed channels).
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Error'
                      examples:
                        invalidRecipient:
                          value:
                            error:
                              code: INVALID_RECIPIENT
                              message: recipient is not a valid E.164 phone number
                              field: recipient
                        channelNotAllowed:
                          value:
                            error:
                              code: CHANNEL_NOT_ALLOWED
                              message: channel whatsapp is not allowed for this app
                              field: channel
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '403':
                  $ref: '#/components/responses/AppForbidden'
                '404':
                  description: |
                    `APP_NOT_FOUND` (unknown appid for this account) or `TEMPLATE_NOT_FOUND`.
                    Templates are not built yet, so any `template` value answers
                    `TEMPLATE_NOT_FOUND`.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Error'
                      examples:
                        templateNotFound:
                          value:
                            error:
                              code: TEMPLATE_NOT_FOUND
                              message: template not found
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
                  description: |
                    `RATE_LIMITED`, when a send-side limit applies; `error.limit` names the
                    rule and `Retry-After` gives the seconds to wait.
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
                          message: too many codes sent to this recipient
                          limit: recipient_10m
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
                check (bad body, credentials, unknown app, database) answer the plain `Error`.
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
                    app, or `recipient` was given and differs (that counts as a wrong try).
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
                    `MAX_ATTEMPTS_EXCEEDED`: a wrong code that was the last try, or any try
                    after it. The verification is now `locked`. No `Retry-After`: it stays locked.
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/VerifyResult'
                      example:
                        verified: false
                        status: locked
                        code: MAX_ATTEMPTS_EXCEEDED
                        attempts_remaining: 0
                        error:
                          code: MAX_ATTEMPTS_EXCEEDED
                          message: too many wrong codes
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
                  description: '`INVALID_JSON`, `VALIDATION_ERROR` (with `field`) or `CHANNEL_NOT_ALLOWED`.'
                  content:
                    application/json:
                      schema:
                        $ref: '#/components/schemas/Error'
                      example:
                        error:
                          code: CHANNEL_NOT_ALLOWED
                          message: channel whatsapp is not allowed for this app
                          field: channel
                '401':
                  $ref: '#/components/responses/Unauthorized'
                '403':
                  $ref: '#/components/responses/AppForbidden'
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
                    `MAX_SENDS_EXCEEDED` when the verification already had `max_sends` sends.
                  headers:
                    Retry-After:
                      description: Seconds until `resend_available_at`; sent with `RESEND_COOLDOWN`.
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
                    E.164: `+` and 8 to 15 digits. Spaces, dots, dashes and parentheses are
                    stripped before checking, so `+55 11 99988-8777` is accepted and
                    normalised to `+5511999888777`. Otherwise `400 INVALID_RECIPIENT`.
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
                    Template id. Templates are not built yet: any value answers
                    `404 TEMPLATE_NOT_FOUND`. Leave it out to use the app's.
                locale:
                  type: string
                  description: BCP 47 language tag.
                  pattern: ^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$
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
                  enum: [VERIFIED, INVALID_CODE, MAX_ATTEMPTS_EXCEEDED, EXPIRED, ALREADY_VERIFIED, NOT_FOUND]
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
        """#
}
