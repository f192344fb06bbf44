import Foundation
import OTPCore
import PostgresNIO

/// Sends that arrived together, as one call of `otp.send_batch` (migration 0017): one statement,
/// one round trip, in the caller's transaction. The requests travel as one JSON array, since
/// columns of optional values cannot be bound as PostgreSQL arrays.
struct SendBatchStatement {
    struct Request: Sendable {
        var new: NewVerification
        var charges: [RateLimitCharge]
        var actor: Caller
    }

    var requests: [Request]

    /// Each request's answer, in the order given: its result, or the limit that refused it.
    func run(on connection: PostgresConnection, logger: Logger) async throws -> [Result<SendResult, OTPFailure>] {
        let body = String(decoding: try JSONEncoder().encode(requests.enumerated().map(Row.init)), as: UTF8.self)
        var answers: [Int: Result<SendResult, OTPFailure>] = [:]
        let rows = try await connection.query(
            """
            SELECT n, refused, expires_at, resend_available_at FROM otp.send_batch(\(body)::jsonb)
            """, logger: logger)
        for try await (n, refused, expiresAt, resendAvailableAt) in rows.decode((Int, String?, Date?, Date?).self) {
            guard requests.indices.contains(n) else { throw PostgresStoreError.noRowReturned }
            let new = requests[n].new
            if let refused {
                answers[n] = .failure(PostgresRateLimiter.refusal(refused))
            } else if let expiresAt, let resendAvailableAt {
                answers[n] = .success(
                    SendResult(
                        verificationID: new.id, status: .pending, channel: new.channel, recipient: new.recipient,
                        expiresAt: expiresAt, resendAvailableAt: resendAvailableAt, deliveryStatus: .queued))
            }
        }
        return try requests.indices.map { n in
            guard let answer = answers[n] else { throw PostgresStoreError.noRowReturned }
            return answer
        }
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
        }

        init(_ n: Int, _ request: Request) {
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
