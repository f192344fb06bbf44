import Foundation
import OTPCore
import PostgresNIO

/// Sends that arrived together, as one call of `otp.send_batch` (migrations 0017, 0018): one
/// statement, one round trip, in the caller's transaction, and one more to store the answers of the
/// sends with an idempotency key. The requests travel as one JSON array, since columns of optional
/// values cannot be bound as PostgreSQL arrays.
struct SendBatchStatement {
    struct Request: Sendable {
        var new: NewVerification
        var charges: [RateLimitCharge]
        var actor: Caller
        var idempotency: IdempotencyClaim? = nil
        var fraud: FraudCheck? = nil
        var spend: SpendCharge? = nil
        /// The request's trace context, stored with the delivery (`TraceParent`).
        var traceParent: String? = nil
    }

    enum Answer {
        case decided(Result<SendOutcome, OTPFailure>)
        /// A second request with a key already in the batch: its answer is the first one's, known
        /// once the batch has committed, so it is sent on its own after it.
        case deferred
    }

    var requests: [Request]

    /// Each request's answer, in the order given: its result (written, or the answer stored with
    /// its key), the limit that refused it, a key reused for another request, or deferred.
    func run(on connection: PostgresConnection, logger: Logger) async throws -> [Answer] {
        var answers = [Answer?](repeating: nil, count: requests.count)
        var keys = Set<KeyName>()
        var written: [Int] = []
        for (n, request) in requests.enumerated() {
            if let claim = request.idempotency, !keys.insert(KeyName(claim)).inserted {
                answers[n] = .deferred
            } else {
                written.append(n)
            }
        }
        let verdicts = try await judge(written, on: connection, logger: logger)
        let rows = zip(written, verdicts).map { n, verdict in Row(n, requests[n], verdict: verdict) }
        let body = String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
        let results = try await connection.execute(SendBatchCall(requests: body), logger: logger)
        var stored: [(claim: IdempotencyClaim, body: String)] = []
        for try await (n, refused, expiresAt, resendAvailableAt, storedDigest, storedBody) in results {
            guard requests.indices.contains(n), answers[n] == nil else { throw PostgresStoreError.noRowReturned }
            let request = requests[n]
            if refused == Self.fraudRefusal, let rule = rows.first(where: { $0.n == n })?.blockedBy {
                answers[n] = .decided(.failure(.fraudBlocked(rule: rule)))
            } else if refused == Self.spendRefusal {
                let wait = SpendCharge.secondsUntilMidnightUTC(from: Date())
                answers[n] = .decided(.failure(.spendLimitReached(retryAfterSeconds: wait)))
            } else if let refused {
                answers[n] = .decided(.failure(PostgresRateLimiter.refusal(refused)))
            } else if let storedDigest, let claim = request.idempotency {
                answers[n] = .decided(Self.replay(storedDigest, storedBody ?? "", claim: claim))
            } else if let expiresAt, let resendAvailableAt {
                let new = request.new
                let result = SendResult(
                    verificationID: new.id, status: .pending, channel: new.channel, recipient: new.recipient,
                    expiresAt: expiresAt, resendAvailableAt: resendAvailableAt, deliveryStatus: .queued)
                answers[n] = .decided(.success(.created(result)))
                if let claim = request.idempotency {
                    let body = String(decoding: try PostgresVerificationStore.encoder.encode(result), as: UTF8.self)
                    stored.append((claim, body))
                }
            }
        }
        if !stored.isEmpty {
            try await connection.query(
                """
                UPDATE otp.idempotency_keys k SET response_status = 202, response_body = b.body
                FROM unnest(\(stored.map(\.claim.accountID)), \(stored.map(\.claim.key)), \(stored.map(\.body)))
                    AS b (account_id, key, body)
                WHERE k.account_id = b.account_id AND k.key = b.key
                """, logger: logger)
        }
        return try answers.map { answer in
            guard let answer else { throw PostgresStoreError.noRowReturned }
            return answer
        }
    }

    /// What `otp.send_batch` answers for a send the guard refused.
    static let fraudRefusal = "fraud_blocked"
    /// What it answers for a send past its app's spend cap.
    static let spendRefusal = "spend_limit_1d"

    /// The guard's verdicts for the requests `written` (by index), in order; one statement reads
    /// the counts when any of them is judged.
    private func judge(_ written: [Int], on connection: PostgresConnection, logger: Logger) async throws
        -> [FraudGuard.Verdict?]
    {
        let sends = written.map { (appID: requests[$0].new.appID, check: requests[$0].fraud) }
        let scopes = Set(
            sends.flatMap { send in
                (send.check?.scopes ?? []).map { FraudGuard.Counted(appID: send.appID, scope: $0) }
            })
        guard !scopes.isEmpty else { return sends.map { _ in nil } }
        let counts = try await FraudCountsStatement.counts(of: scopes, on: connection, logger: logger)
        return FraudGuard.judge(sends, counts: counts)
    }

    /// The answer for a key that was already there: the first answer when the request is the same
    /// (digests compared in constant time) and that answer was stored; a refusal otherwise.
    static func replay(_ storedDigest: Data, _ storedBody: String, claim: IdempotencyClaim) -> Result<
        SendOutcome, OTPFailure
    > {
        guard constantTimeEquals(storedDigest, claim.requestDigest), !storedBody.isEmpty,
            let result = try? PostgresVerificationStore.decoder.decode(SendResult.self, from: Data(storedBody.utf8))
        else { return .failure(.idempotencyKeyReused) }
        return .success(.replayed(result))
    }

    private struct KeyName: Hashable {
        var accountID: Int64
        var key: String

        init(_ claim: IdempotencyClaim) { (accountID, key) = (claim.accountID, claim.key) }
    }

    /// One request as `otp.send_batch` reads it (`jsonb_to_recordset`); bytea as `\x` hex.
    private struct Row: Encodable {
        var n: Int
        var id, appID, recipient, country, channel: String
        var sender, locale: String?
        var codeDigest: String
        var keptCode: String?
        var codeLength, ttlSeconds, maxAttempts, maxSends, resendCooldownSeconds: Int
        var metadata: [String: String]
        var sealedCode, messageTemplate: String
        var templateID: String?
        var templateVersion: Int?
        var messageLocale: String
        var whatsAppTemplate, whatsAppLanguage: String?
        var actorKeyID: String
        var ip: String?
        var test: Bool
        var rules, scopeKeys: [String]
        var maxCounts, windows: [Int]
        var accountID: Int64?
        var idempotencyKey, requestDigest: String?
        var fraudScopes: [String]?
        var fraudEvent: String?
        var fraudDetails: [String: String]?
        var blocked: Bool
        var transaction: Transaction?
        /// Decimal strings, as `numeric` reads them.
        var spendLimit, spendEstimate: String?
        var traceParent: String?
        /// The rule that refused the send (not sent to the database).
        var blockedBy: String?

        /// The column names of `otp.send_batch`'s record (spelled out: converting keys per request
        /// costs more than the rest of the encoding).
        enum CodingKeys: String, CodingKey {
            case n, id, recipient, country, channel, sender, locale, metadata, ip, test, rules, windows
            case appID = "app_id"
            case codeDigest = "code_digest"
            case keptCode = "kept_code"
            case codeLength = "code_length"
            case ttlSeconds = "ttl_seconds"
            case maxAttempts = "max_attempts"
            case maxSends = "max_sends"
            case resendCooldownSeconds = "resend_cooldown_seconds"
            case sealedCode = "sealed_code"
            case messageTemplate = "message_template"
            case templateID = "template_id"
            case templateVersion = "template_version"
            case messageLocale = "message_locale"
            case whatsAppTemplate = "whatsapp_template"
            case whatsAppLanguage = "whatsapp_language"
            case actorKeyID = "actor"
            case scopeKeys = "scope_keys"
            case maxCounts = "max_counts"
            case accountID = "account_id"
            case idempotencyKey = "idempotency_key"
            case requestDigest = "request_digest"
            case fraudScopes = "fraud_scopes"
            case fraudEvent = "fraud_event"
            case fraudDetails = "fraud_details"
            case blocked, transaction
            case spendLimit = "spend_limit"
            case spendEstimate = "spend_estimate"
            case traceParent = "trace_parent"
        }

        init(_ n: Int, _ request: Request, verdict: FraudGuard.Verdict?) {
            let new = request.new
            self.n = n
            (id, appID, recipient, country, channel) = (
                new.id, new.appID, new.recipient, new.country, new.channel.rawValue
            )
            (sender, locale) = (new.sender, new.locale)
            codeDigest = Self.hex(new.codeDigest)
            keptCode = new.keepsSealedCode ? Self.hex(new.sealedCode) : nil
            (codeLength, ttlSeconds, maxAttempts, maxSends, resendCooldownSeconds) = (
                new.codeLength, new.ttlSeconds, new.maxAttempts, new.maxSends, new.resendCooldownSeconds
            )
            metadata = new.metadata
            sealedCode = Self.hex(new.sealedCode)
            messageTemplate = new.message.template
            templateID = new.message.templateID
            templateVersion = new.message.templateVersion
            messageLocale = new.message.locale
            whatsAppTemplate = new.message.whatsAppTemplate?.name
            whatsAppLanguage = new.message.whatsAppTemplate?.language
            (actorKeyID, ip) = (request.actor.keyID, request.actor.ip)
            test = new.test
            rules = request.charges.map(\.rule.rawValue)
            scopeKeys = request.charges.map(\.scopeKey)
            maxCounts = request.charges.map(\.limit)
            windows = request.charges.map(\.rule.windowSeconds)
            accountID = request.idempotency?.accountID
            idempotencyKey = request.idempotency?.key
            requestDigest = request.idempotency.map { Self.hex($0.requestDigest) }
            fraudScopes = request.fraud?.scopes.map(\.key)
            transaction = new.transaction
            spendLimit = request.spend.map { "\($0.limit)" }
            spendEstimate = request.spend.map { "\($0.estimate)" }
            traceParent = request.traceParent
            blocked = false
            switch verdict {
            case .flag(let finding):
                (fraudEvent, fraudDetails) = (EventKind.fraudFlagged.rawValue, Self.details(finding, new))
            case .block(let finding):
                (fraudEvent, fraudDetails) = (EventKind.fraudBlocked.rawValue, Self.details(finding, new))
                (blocked, blockedBy) = (true, finding.scope.kind.rawValue)
            case .pass, nil: break
            }
        }

        /// The audit event's details: the finding, and the send's country and channel.
        static func details(_ finding: FraudFinding, _ new: NewVerification) -> [String: String] {
            finding.details.merging(["country": new.country, "channel": new.channel.rawValue]) { first, _ in first }
        }

        static func hex(_ data: Data) -> String {
            let digits = Array("0123456789abcdef".utf8)
            var text = [UInt8]("\\x".utf8)
            text.reserveCapacity(2 + data.count * 2)
            for byte in data {
                text.append(digits[Int(byte >> 4)])
                text.append(digits[Int(byte & 0x0f)])
            }
            return String(decoding: text, as: UTF8.self)
        }
    }
}

/// `otp.send_batch` called with a batch's requests (a JSON array), prepared once per connection.
struct SendBatchCall: PostgresPreparedStatement {
    static let sql = """
        SELECT n, refused, expires_at, resend_available_at, stored_digest, stored_body
        FROM otp.send_batch($1::text::jsonb)
        """
    typealias Row = (Int, String?, Date?, Date?, Data?, String?)

    var requests: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(requests)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
