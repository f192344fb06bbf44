import Foundation

/// Who is calling and where from, for the audit trail.
package struct Caller: Sendable, Equatable {
    package var keyID: String
    package var ip: String?

    package init(keyID: String, ip: String?) {
        self.keyID = keyID
        self.ip = ip
    }
}

/// Looks up the credentials and apps that requests name.
package protocol AccessDirectory: Sendable {
    func apiKey(id: String) async throws -> StoredAPIKey?
    /// The app, when it exists and belongs to the account.
    func app(id: String, accountID: Int64) async throws -> App?
    /// Every app of the account.
    func appIDs(accountID: Int64) async throws -> [String]
}

/// A verification to create, with its first delivery.
package struct NewVerification: Sendable {
    package var id: String
    package var appID: String
    package var recipient: String
    /// ISO 3166 region of the recipient.
    package var country: String
    package var channel: MessageChannel
    package var sender: String?
    package var locale: String?
    package var codeDigest: Data
    /// The code sealed for the delivery queue.
    package var sealedCode: Data
    /// Also kept on the verification when the app resends the same code.
    package var keepsSealedCode: Bool
    package var codeLength: Int
    package var ttlSeconds: Int
    package var maxAttempts: Int
    package var maxSends: Int
    package var resendCooldownSeconds: Int
    package var metadata: [String: String]
    package var message: QueuedMessage
    /// The payment the code confirms, if it confirms one.
    package var transaction: Transaction? = nil
    /// To one of the app's test numbers: its code is the number's own and no provider is called.
    package var test = false

    package init(
        id: String, appID: String, recipient: String, country: String, channel: MessageChannel, sender: String?,
        locale: String?,
        codeDigest: Data, sealedCode: Data, keepsSealedCode: Bool, codeLength: Int, ttlSeconds: Int,
        maxAttempts: Int, maxSends: Int, resendCooldownSeconds: Int, metadata: [String: String], message: QueuedMessage
    ) {
        self.message = message
        self.id = id
        self.appID = appID
        self.recipient = recipient
        self.country = country
        self.channel = channel
        self.sender = sender
        self.locale = locale
        self.codeDigest = codeDigest
        self.sealedCode = sealedCode
        self.keepsSealedCode = keepsSealedCode
        self.codeLength = codeLength
        self.ttlSeconds = ttlSeconds
        self.maxAttempts = maxAttempts
        self.maxSends = maxSends
        self.resendCooldownSeconds = resendCooldownSeconds
        self.metadata = metadata
    }
}

/// What `send` and `resend` answer.
package struct SendResult: Sendable, Equatable, Codable {
    package var verificationID: String
    package var status: VerificationStatus
    package var channel: MessageChannel
    package var recipient: String
    package var expiresAt: Date
    package var resendAvailableAt: Date
    package var deliveryStatus: DeliveryStatus

    package init(
        verificationID: String, status: VerificationStatus, channel: MessageChannel, recipient: String, expiresAt: Date,
        resendAvailableAt: Date, deliveryStatus: DeliveryStatus
    ) {
        self.verificationID = verificationID
        self.status = status
        self.channel = channel
        self.recipient = recipient
        self.expiresAt = expiresAt
        self.resendAvailableAt = resendAvailableAt
        self.deliveryStatus = deliveryStatus
    }
}

/// An `Idempotency-Key` and the digest of the request body it came with.
package struct IdempotencyClaim: Sendable {
    package var accountID: Int64
    /// The key as stored: scoped to the app of the request (`APPID|KEY`; `|` is no key's
    /// character), so two apps of one account never share, claim or learn of each other's keys.
    package var key: String
    package var requestDigest: Data

    package init(accountID: Int64, appID: String, key: String, requestDigest: Data) {
        self.accountID = accountID
        self.key = appID + "|" + key
        self.requestDigest = requestDigest
    }
}

package enum SendOutcome: Sendable, Equatable {
    case created(SendResult)
    /// The same key and body were seen within 24 hours: the first answer, nothing sent.
    case replayed(SendResult)
}

/// The locked verification a resend decides on.
package struct ResendContext: Sendable {
    package var snapshot: VerificationSnapshot
    package var channel: MessageChannel
    package var codeLength: Int
    package var sealedCode: Data?
    /// The database's clock.
    package var now: Date
    package var recipient: String
    /// The transaction the verification confirms: a resend's code covers it too.
    package var transaction: Transaction? = nil

    package init(
        snapshot: VerificationSnapshot, channel: MessageChannel, codeLength: Int, sealedCode: Data?, now: Date,
        recipient: String
    ) {
        self.recipient = recipient
        self.snapshot = snapshot
        self.channel = channel
        self.codeLength = codeLength
        self.sealedCode = sealedCode
        self.now = now
    }
}

/// What a resend writes: a new digest (nil keeps the code), the sealed code for the new delivery.
package struct ResendPlan: Sendable {
    package var channel: MessageChannel
    package var newCodeDigest: Data?
    package var sealedCode: Data
    package var resendCooldownSeconds: Int
    /// The send limits this resend counts against.
    package var charges: [RateLimitCharge]
    /// The recipient's country (ISO 3166 alpha-2), as the number reads: a send requested in SQL
    /// learns it here when a resend comes before the worker prepared the request.
    package var country: String

    package init(
        channel: MessageChannel, newCodeDigest: Data?, sealedCode: Data, resendCooldownSeconds: Int,
        charges: [RateLimitCharge], country: String
    ) {
        self.country = country
        self.channel = channel
        self.newCodeDigest = newCodeDigest
        self.sealedCode = sealedCode
        self.resendCooldownSeconds = resendCooldownSeconds
        self.charges = charges
    }
}

/// The locked verification a verify call decides on.
package struct VerifyContext: Sendable {
    package var snapshot: VerificationSnapshot
    package var recipient: String
    package var codeDigest: Data?
    /// The recipient's earlier wrong codes, locked with the verification.
    package var guesses: RecipientGuesses
    package var now: Date
    /// The transaction the code confirms, as stored.
    package var transaction: Transaction? = nil

    package init(
        snapshot: VerificationSnapshot, recipient: String, codeDigest: Data?, guesses: RecipientGuesses, now: Date
    ) {
        self.snapshot = snapshot
        self.recipient = recipient
        self.codeDigest = codeDigest
        self.guesses = guesses
        self.now = now
    }
}

package struct VerificationReport: Sendable, Equatable {
    package var id: String
    package var appID: String
    package var status: VerificationStatus
    package var channel: MessageChannel
    package var recipient: String
    package var attempts: Int
    package var attemptsRemaining: Int
    package var sends: Int
    package var deliveryStatus: DeliveryStatus
    package var createdAt: Date
    package var expiresAt: Date
    package var verifiedAt: Date?
    package var resendAvailableAt: Date
    /// A verification of one of the app's test numbers.
    package var test: Bool
    /// The payment the code confirms: not secret, shown with the verification.
    package var transaction: Transaction? = nil

    package init(
        id: String, appID: String, status: VerificationStatus, channel: MessageChannel, recipient: String,
        attempts: Int,
        attemptsRemaining: Int, sends: Int, deliveryStatus: DeliveryStatus, createdAt: Date, expiresAt: Date,
        verifiedAt: Date?, resendAvailableAt: Date, test: Bool = false
    ) {
        self.test = test
        self.id = id
        self.appID = appID
        self.status = status
        self.channel = channel
        self.recipient = recipient
        self.attempts = attempts
        self.attemptsRemaining = attemptsRemaining
        self.sends = sends
        self.deliveryStatus = deliveryStatus
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.verifiedAt = verifiedAt
        self.resendAvailableAt = resendAvailableAt
    }
}

/// The verifications and their deliveries. Each call is one transaction.
package protocol VerificationStore: Sendable {
    /// Charges the limits, creates the verification and queues its delivery, atomically. Throws
    /// `OTPFailure.rateLimited` when a limit is reached (nothing is written),
    /// `OTPFailure.idempotencyKeyReused` when the key came with another body.
    ///
    /// With `fraud`, the guard judges the send first against its scopes' counts (`FraudGuard`):
    /// `OTPFailure.fraudBlocked` when it refuses (nothing charged or queued, its event written).
    ///
    /// With `spend`, its estimate is charged against the app's spend of the UTC day:
    /// `OTPFailure.spendLimitReached` past the cap.
    func send(
        _ verification: NewVerification, idempotency: IdempotencyClaim?, charges: [RateLimitCharge],
        fraud: FraudCheck?, spend: SpendCharge?, actor: Caller
    ) async throws -> SendOutcome

    /// Charges `gate`, locks the verification and the recipient's guesses (read against the counter
    /// `onFailure` gives for the recipient), asks `decide`, and stores all it says in one
    /// transaction: a refusal `decide` makes is recorded and committed like any other answer, and a
    /// wrong code charges that counter. nil when the id is unknown to the app.
    func verify(
        verificationID: String, appID: String, actor: Caller, gate: RateLimitCharge?,
        onFailure: @escaping @Sendable (_ recipient: String) -> RateLimitCharge?,
        decide: @escaping @Sendable (VerifyContext) -> VerifyDecision
    ) async throws -> VerifyDecision?

    /// Locks the verification and asks `plan`, which throws a refusal or says what to send.
    func resend(
        verificationID: String, appID: String, actor: Caller,
        plan: @escaping @Sendable (ResendContext) throws -> ResendPlan
    ) async throws -> SendResult

    func report(verificationID: String, appID: String) async throws -> VerificationReport?

    /// Writes the audit event of a refused request: a full rate limit, or an app rule that said no.
    /// Best effort: a refusal is answered whether or not its event could be written.
    func recordRefusal(_ refusal: Refusal, appID: String, verificationID: String?, actor: Caller) async

    /// How far each charge's counter is in its current window.
    func usage(of charges: [RateLimitCharge]) async throws -> [RateLimitStatus]
}
