import Foundation

/// Who is calling and where from, for the audit trail.
public struct Actor: Sendable, Equatable {
    public var keyID: String
    public var ip: String?

    public init(keyID: String, ip: String?) {
        self.keyID = keyID
        self.ip = ip
    }
}

/// Looks up the credentials and apps that requests name.
public protocol AccessDirectory: Sendable {
    func apiKey(id: String) async throws -> StoredAPIKey?
    /// The app, when it exists and belongs to the account.
    func app(id: String, accountID: Int64) async throws -> App?
    /// Every app of the account.
    func appIDs(accountID: Int64) async throws -> [String]
}

/// A verification to create, with its first delivery.
public struct NewVerification: Sendable {
    public var id: String
    public var appID: String
    public var recipient: String
    /// ISO 3166 region of the recipient.
    public var country: String
    public var channel: Channel
    public var sender: String?
    public var locale: String?
    public var codeDigest: Data
    /// The code sealed for the delivery queue.
    public var sealedCode: Data
    /// Also kept on the verification when the app resends the same code.
    public var keepsSealedCode: Bool
    public var codeLength: Int
    public var ttlSeconds: Int
    public var maxAttempts: Int
    public var maxSends: Int
    public var resendCooldownSeconds: Int
    public var metadata: [String: String]
    public var message: QueuedMessage

    public init(
        id: String, appID: String, recipient: String, country: String, channel: Channel, sender: String?,
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
public struct SendReceipt: Sendable, Equatable, Codable {
    public var verificationID: String
    public var status: VerificationStatus
    public var channel: Channel
    public var recipient: String
    public var expiresAt: Date
    public var resendAvailableAt: Date
    public var deliveryStatus: DeliveryStatus

    public init(
        verificationID: String, status: VerificationStatus, channel: Channel, recipient: String, expiresAt: Date,
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
public struct IdempotencyClaim: Sendable {
    public var accountID: Int64
    public var key: String
    public var requestDigest: Data

    public init(accountID: Int64, key: String, requestDigest: Data) {
        self.accountID = accountID
        self.key = key
        self.requestDigest = requestDigest
    }
}

public enum SendOutcome: Sendable, Equatable {
    case created(SendReceipt)
    /// The same key and body were seen within 24 hours: the first answer, nothing sent.
    case replayed(SendReceipt)
}

/// The locked verification a resend decides on.
public struct ResendContext: Sendable {
    public var snapshot: VerificationSnapshot
    public var channel: Channel
    public var codeLength: Int
    public var sealedCode: Data?
    /// The database's clock.
    public var now: Date
    public var recipient: String

    public init(
        snapshot: VerificationSnapshot, channel: Channel, codeLength: Int, sealedCode: Data?, now: Date,
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
public struct ResendPlan: Sendable {
    public var channel: Channel
    public var newCodeDigest: Data?
    public var sealedCode: Data
    public var resendCooldownSeconds: Int
    /// The send limits this resend counts against.
    public var charges: [RateLimitCharge]

    public init(
        channel: Channel, newCodeDigest: Data?, sealedCode: Data, resendCooldownSeconds: Int,
        charges: [RateLimitCharge]
    ) {
        self.channel = channel
        self.newCodeDigest = newCodeDigest
        self.sealedCode = sealedCode
        self.resendCooldownSeconds = resendCooldownSeconds
        self.charges = charges
    }
}

/// The locked verification a verify call decides on.
public struct VerifyContext: Sendable {
    public var snapshot: VerificationSnapshot
    public var recipient: String
    public var codeDigest: Data?
    /// The recipient's earlier wrong codes, locked with the verification.
    public var guesses: RecipientGuesses
    public var now: Date

    public init(
        snapshot: VerificationSnapshot, recipient: String, codeDigest: Data?, guesses: RecipientGuesses, now: Date
    ) {
        self.snapshot = snapshot
        self.recipient = recipient
        self.codeDigest = codeDigest
        self.guesses = guesses
        self.now = now
    }
}

public struct VerificationReport: Sendable, Equatable {
    public var id: String
    public var appID: String
    public var status: VerificationStatus
    public var channel: Channel
    public var recipient: String
    public var attempts: Int
    public var attemptsRemaining: Int
    public var sends: Int
    public var deliveryStatus: DeliveryStatus
    public var createdAt: Date
    public var expiresAt: Date
    public var verifiedAt: Date?
    public var resendAvailableAt: Date

    public init(
        id: String, appID: String, status: VerificationStatus, channel: Channel, recipient: String, attempts: Int,
        attemptsRemaining: Int, sends: Int, deliveryStatus: DeliveryStatus, createdAt: Date, expiresAt: Date,
        verifiedAt: Date?, resendAvailableAt: Date
    ) {
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
public protocol VerificationStore: Sendable {
    /// Charges the limits, creates the verification and queues its delivery, atomically. Throws
    /// `OTPFailure.rateLimited` when a limit is reached (nothing is written but a `rate_limited`
    /// event), `OTPFailure.idempotencyKeyReused` when the key came with another body.
    func send(
        _ verification: NewVerification, idempotency: IdempotencyClaim?, charges: [RateLimitCharge], actor: Actor
    ) async throws -> SendOutcome

    /// Charges `gate`, locks the verification and the recipient's guesses (read against the counter
    /// `onFailure` gives for the recipient), asks `decide`, and stores all it says in one
    /// transaction: a refusal `decide` makes is recorded and committed like any other answer, and a
    /// wrong code charges that counter. nil when the id is unknown to the app.
    func verify(
        verificationID: String, appID: String, actor: Actor, gate: RateLimitCharge?,
        onFailure: @escaping @Sendable (_ recipient: String) -> RateLimitCharge?,
        decide: @escaping @Sendable (VerifyContext) -> VerifyDecision
    ) async throws -> VerifyDecision?

    /// Locks the verification and asks `plan`, which throws a refusal or says what to send.
    func resend(
        verificationID: String, appID: String, actor: Actor,
        plan: @escaping @Sendable (ResendContext) throws -> ResendPlan
    ) async throws -> SendReceipt

    func report(verificationID: String, appID: String) async throws -> VerificationReport?

    /// Writes the audit event of a refused request (country, line type, resend rules).
    func recordRefusal(appID: String, verificationID: String?, reason: String, actor: Actor) async

    /// How far each charge's counter is in its current window.
    func usage(of charges: [RateLimitCharge]) async throws -> [RateLimitStatus]
}
